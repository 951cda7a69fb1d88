"""A burst's texts: the post jobs waiting behind one in its lane ride in its post, and
landing it records every text's Slack message and finishes their jobs, in one write."""

from __future__ import annotations

from datetime import timedelta

from bridge.jobs import conversation_lane
from bridge.models import Contact, DraftState, Job, JobKind, MessageDraft, NewJob
from bridge.store.base import Store
from tests.contract.conftest import T0, sms

LEASE = 30.0


async def texts(store: Store, count: int, *, start: int = 0) -> list[str]:
    ids = []
    for n in range(start, start + count):
        record = await store.record_inbound(
            sms(f"SM{n}", at=T0 + timedelta(seconds=n), body=f"t{n}")
        )
        ids.append(record.message.id)
    return ids


async def claim_post(store: Store, seconds: float = 60) -> Job:
    claimed = await store.claim_jobs(
        "w1", now=T0 + timedelta(seconds=seconds), limit=50, lease_seconds=LEASE
    )
    return next(j for j in claimed if j.kind is JobKind.POST_INBOUND)


async def test_texts_behind_a_post_ride_in_it_and_land_with_it(store: Store) -> None:
    ids = await texts(store, 4)
    head = await claim_post(store)
    assert head.message_id == ids[0]

    riders = await store.waiting_behind(head, now=T0 + timedelta(seconds=60), limit=2)
    assert [r.message.id for r in riders] == ids[1:3]  # oldest first, at most `limit`
    assert [r.message.body for r in riders] == ["t1", "t2"]

    await store.begin_post("text:burst", "C1", "100.1", at=T0)
    await store.land_burst(
        ids[:3], "C1", "200.1", draft_of=None, landing="text:burst", riders=[r.key for r in riders]
    )
    assert [m.id for m in await store.messages_at("C1", "200.1")] == ids[:3]
    for message_id in ids[:3]:
        message = await store.get_message(message_id)
        assert message is not None
        assert (message.slack_channel, message.slack_ts) == ("C1", "200.1")
    assert await store.unsettled_posts("C1") == []  # the post landed in the same write
    found = await store.get_message_by_slack_ts("C1", "200.1")
    assert found is not None
    assert found.id in ids[:3]

    # The riders' jobs are finished: after the head, the lane's next is the fourth text.
    assert await store.complete_job(head)
    after = await claim_post(store)
    assert after.message_id == ids[3]
    assert await store.waiting_behind(after, now=T0 + timedelta(seconds=60), limit=10) == []


async def test_a_job_of_another_kind_or_not_yet_due_ends_the_ride(store: Store) -> None:
    ids = await texts(store, 2)
    head = await claim_post(store)
    conversation = head.conversation_id
    assert conversation is not None
    note = NewJob(key="note:1", kind=JobKind.THREAD_NOTE, lane=conversation_lane(conversation))
    await store.enqueue(note, run_at=T0)
    await texts(store, 1, start=2)

    riders = await store.waiting_behind(head, now=T0 + timedelta(seconds=60), limit=10)
    assert [r.message.id for r in riders] == ids[1:]  # not the text after the note
    assert await store.waiting_behind(head, now=T0, limit=10) == []  # the next is not due


async def test_a_draft_posted_with_its_burst_is_shown_there(store: Store) -> None:
    ids = await texts(store, 2)
    draft = MessageDraft(
        reply="hi", confidence=0.9, escalate=False, engine="offline", state=DraftState.PROPOSED
    )
    await store.save_draft(ids[1], draft, intent="other", urgency="normal")
    await store.begin_post("text:b", "C1", None, at=T0)
    await store.land_burst(ids, "C1", "300.1", draft_of=ids[1], landing="text:b", riders=[])
    message = await store.get_message(ids[1])
    assert message is not None
    assert message.draft is not None
    assert message.draft.slack_ts == "300.1"
    first = await store.get_message(ids[0])
    assert first is not None
    assert first.draft is None
    assert first.slack_ts == "300.1"


async def test_a_text_to_post_is_read_with_its_conversation_and_contact(store: Store) -> None:
    (message_id,) = await texts(store, 1)
    message = await store.get_message(message_id)
    assert message is not None
    conversation = await store.get_conversation(message.conversation_id)
    assert conversation is not None
    unnamed = await store.text_to_post(message_id, conversation.id)
    await store.put_contact(Contact(phone=conversation.subscriber, name="Ana"))

    read = await store.text_to_post(message_id, conversation.id)

    assert (read.message, read.conversation) == (message, conversation)
    assert read.contact == Contact(phone=conversation.subscriber, name="Ana")
    assert (unnamed.message, unnamed.contact) == (message, None)


async def test_a_text_to_post_says_what_is_not_in_the_store(store: Store) -> None:
    (message_id,) = await texts(store, 1)
    message = await store.get_message(message_id)
    assert message is not None

    gone = await store.text_to_post("missing", message.conversation_id)
    lost = await store.text_to_post(message_id, 999_999)

    assert (gone.message, gone.conversation is not None) == (None, True)
    assert (lost.message, lost.conversation, lost.contact) == (message, None, None)
