"""Conversations, messages and contacts: the same behaviour on every engine."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone

import pytest

from bridge.jobs import conversation_lane
from bridge.models import (
    Contact,
    ConversationStatus,
    DeliveryStatus,
    Direction,
    JobKind,
    KeywordMark,
    Media,
    MessagePurpose,
)
from bridge.store.base import Store
from tests.contract.conftest import BUSINESS, SUBSCRIBER, T0, StoreFactory, sms

LATER = T0 + timedelta(minutes=5)


async def test_record_inbound_opens_conversation_stores_message_and_post_job(
    store: Store,
) -> None:
    text = sms("SM1", body="Is the shop open?").model_copy(
        update={"media": (Media(url="https://example.test/a.jpg", content_type="image/jpeg"),)}
    )
    record = await store.record_inbound(text)

    assert record.created is True
    conversation, message = record.conversation, record.message
    assert conversation.business_number == BUSINESS
    assert conversation.subscriber == SUBSCRIBER
    assert conversation.status is ConversationStatus.OPEN
    assert conversation.assignee is None
    assert conversation.flagged is False
    assert conversation.slack_channel is None
    assert conversation.slack_thread_ts is None
    assert conversation.created_at == T0
    assert conversation.last_activity_at == T0
    assert conversation.header_activity_at is None
    assert message.conversation_id == conversation.id
    assert message.direction is Direction.INBOUND
    assert message.body == "Is the shop open?"
    assert message.media == text.media
    assert message.sid == "SM1"
    assert message.created_at == T0
    assert message.slack_ts is None
    assert message.status is DeliveryStatus.RECEIVED
    assert message.author is None
    assert message.error_code is None
    assert message.media_posted is False
    assert message.keyword is None
    assert message.purpose is MessagePurpose.REPLY

    assert await store.get_message(message.id) == message
    assert await store.get_message_by_sid("SM1") == message
    assert await store.get_conversation(conversation.id) == conversation
    assert await store.find_conversation(BUSINESS, SUBSCRIBER) == conversation
    assert await store.queue_depth() == {JobKind.POST_INBOUND.value: 1}

    [job] = await store.claim_jobs("w", now=T0, limit=10, lease_seconds=30)
    assert job.key == f"post:{message.id}"
    assert job.kind is JobKind.POST_INBOUND
    assert job.lane == conversation_lane(conversation.id)
    assert job.conversation_id == conversation.id
    assert job.message_id == message.id
    assert job.attempts == 1
    assert job.created_at == T0


async def test_post_job_is_due_at_receipt_time(store: Store) -> None:
    await store.record_inbound(sms("SM1", at=LATER))
    assert await store.claim_jobs("w", now=T0, limit=10, lease_seconds=30) == []
    assert len(await store.claim_jobs("w", now=LATER, limit=10, lease_seconds=30)) == 1


async def test_known_sid_changes_nothing(store: Store) -> None:
    first = await store.record_inbound(sms("SM1", body="one"))
    # A provider retry: same sid, later delivery (even a different body must not win).
    again = await store.record_inbound(sms("SM1", at=LATER, body="two"))

    assert again.created is False
    assert again.message == first.message
    assert again.conversation == first.conversation
    assert await store.get_conversation(first.conversation.id) == first.conversation
    assert await store.queue_depth() == {JobKind.POST_INBOUND.value: 1}
    jobs = await store.claim_jobs("w", now=LATER, limit=10, lease_seconds=30)
    assert [j.message_id for j in jobs] == [first.message.id]


async def test_known_sid_after_its_post_job_completed(store: Store) -> None:
    first = await store.record_inbound(sms("SM1"))
    [job] = await store.claim_jobs("w", now=T0, limit=10, lease_seconds=30)
    assert await store.complete_job(job)

    again = await store.record_inbound(sms("SM1", at=LATER))

    assert again.created is False
    assert again.message == first.message
    assert await store.queue_depth() == {}


async def test_known_sid_returns_the_conversation_as_it_is_now(store: Store) -> None:
    first = await store.record_inbound(sms("SM1"))
    await store.record_inbound(sms("SM2", at=LATER))
    assert await store.set_thread(first.conversation.id, "C1", "1.0", replacing=None)

    again = await store.record_inbound(sms("SM1"))

    assert again.created is False
    assert again.conversation == await store.get_conversation(first.conversation.id)
    assert again.conversation.last_activity_at == LATER
    assert again.conversation.slack_thread_ts == "1.0"


async def test_same_subscriber_same_conversation(store: Store) -> None:
    first = await store.record_inbound(sms("SM1"))
    second = await store.record_inbound(sms("SM2", at=LATER))

    assert second.created is True
    assert second.conversation.id == first.conversation.id
    assert second.message.id != first.message.id
    assert second.conversation.created_at == T0
    assert second.conversation.last_activity_at == LATER
    assert await store.queue_depth() == {JobKind.POST_INBOUND.value: 2}


async def test_other_subscriber_or_business_number_opens_new_conversations(
    store: Store,
) -> None:
    a = await store.record_inbound(sms("SM1"))
    b = await store.record_inbound(sms("SM2", subscriber="+15551230002"))
    c = await store.record_inbound(sms("SM3", business="+15005550007"))

    assert a.conversation.id < b.conversation.id < c.conversation.id
    assert await store.find_conversation(BUSINESS, "+15551230002") == b.conversation
    assert await store.find_conversation("+15005550007", SUBSCRIBER) == c.conversation
    assert await store.find_conversation("+15005550007", "+15551230002") is None
    lanes = {j.lane for j in await store.claim_jobs("w", now=T0, limit=10, lease_seconds=30)}
    assert lanes == {conversation_lane(r.conversation.id) for r in (a, b, c)}


async def test_last_activity_only_moves_forward(store: Store) -> None:
    await store.record_inbound(sms("SM1", at=LATER))
    late_record = await store.record_inbound(sms("SM2", at=T0))  # delivered out of order

    assert late_record.conversation.last_activity_at == LATER
    assert late_record.message.created_at == T0
    conversation = await store.find_conversation(BUSINESS, SUBSCRIBER)
    assert conversation is not None
    assert conversation.last_activity_at == LATER
    assert conversation.created_at == LATER  # opened by the first text stored


async def test_concurrent_same_sid_creates_exactly_once(store: Store) -> None:
    records = await asyncio.gather(*(store.record_inbound(sms("SM1")) for _ in range(5)))

    assert sum(r.created for r in records) == 1
    assert len({r.message.id for r in records}) == 1
    assert len({r.conversation.id for r in records}) == 1
    assert await store.queue_depth() == {JobKind.POST_INBOUND.value: 1}
    [job] = await store.claim_jobs("w", now=T0, limit=10, lease_seconds=30)
    assert job.message_id == records[0].message.id
    assert await store.get_message(records[0].message.id) == records[0].message


async def test_concurrent_same_sid_from_two_processes(new_store: StoreFactory) -> None:
    one, two = await new_store(), await new_store()
    records = await asyncio.gather(*(s.record_inbound(sms("SM1")) for s in (one, two, one, two)))

    assert sum(r.created for r in records) == 1
    assert len({r.message.id for r in records}) == 1
    assert await two.queue_depth() == {JobKind.POST_INBOUND.value: 1}


async def test_concurrent_texts_of_a_new_subscriber_share_one_conversation(
    store: Store,
) -> None:
    records = await asyncio.gather(*(store.record_inbound(sms(f"SM{i}")) for i in range(4)))

    assert all(r.created for r in records)
    assert len({r.conversation.id for r in records}) == 1
    assert len({r.message.id for r in records}) == 4
    assert await store.queue_depth() == {JobKind.POST_INBOUND.value: 4}


async def test_unknown_ids_are_none(store: Store) -> None:
    assert await store.get_conversation(12345) is None
    assert await store.find_conversation(BUSINESS, SUBSCRIBER) is None
    assert await store.get_message("nope") is None
    assert await store.get_message_by_slack_ts("C1", "1.0") is None
    assert await store.get_message_by_sid("SMnope") is None
    assert await store.find_conversation_by_thread("C1", "1.0") is None
    assert await store.get_contact("+15550000000") is None


async def test_set_thread_is_compare_and_set(store: Store) -> None:
    cid = (await store.record_inbound(sms("SM1"))).conversation.id

    assert await store.set_thread(cid, "C1", "100.1", replacing=None) is True
    # A second creator that also saw no thread loses.
    assert await store.set_thread(cid, "C1", "100.2", replacing=None) is False
    assert await store.set_thread(cid, "C1", "100.3", replacing="999.9") is False
    conversation = await store.get_conversation(cid)
    assert conversation is not None
    assert (conversation.slack_channel, conversation.slack_thread_ts) == ("C1", "100.1")

    assert await store.set_thread(cid, "C2", "200.1", replacing="100.1") is True
    conversation = await store.get_conversation(cid)
    assert conversation is not None
    assert (conversation.slack_channel, conversation.slack_thread_ts) == ("C2", "200.1")
    assert await store.set_thread(12345, "C1", "1.0", replacing=None) is False


async def test_concurrent_set_thread_has_one_winner(new_store: StoreFactory) -> None:
    one, two = await new_store(), await new_store()
    cid = (await one.record_inbound(sms("SM1"))).conversation.id

    results = await asyncio.gather(
        one.set_thread(cid, "C1", "1.1", replacing=None),
        two.set_thread(cid, "C1", "1.2", replacing=None),
    )

    assert sorted(results) == [False, True]
    conversation = await one.get_conversation(cid)
    assert conversation is not None
    assert conversation.slack_thread_ts == ("1.1" if results[0] else "1.2")


async def test_clear_thread_only_clears_the_current_thread(store: Store) -> None:
    cid = (await store.record_inbound(sms("SM1"))).conversation.id
    assert await store.set_thread(cid, "C1", "100.1", replacing=None)
    await store.mark_header_shown(cid, T0)

    assert await store.clear_thread(cid, "999.9") is False
    conversation = await store.get_conversation(cid)
    assert conversation is not None
    assert conversation.slack_thread_ts == "100.1"
    assert conversation.header_activity_at == T0

    assert await store.clear_thread(cid, "100.1") is True
    conversation = await store.get_conversation(cid)
    assert conversation is not None
    assert conversation.slack_thread_ts is None
    assert conversation.header_activity_at is None  # the new thread's card is not shown yet
    assert await store.clear_thread(cid, "100.1") is False
    # With no thread, a new one can be set as if none had been.
    assert await store.set_thread(cid, "C1", "300.1", replacing=None) is True
    assert await store.clear_thread(12345, "300.1") is False


async def test_find_conversation_by_thread(store: Store) -> None:
    cid = (await store.record_inbound(sms("SM1"))).conversation.id
    other = (await store.record_inbound(sms("SM2", subscriber="+15551230002"))).conversation.id
    assert await store.set_thread(cid, "C1", "100.1", replacing=None)
    assert await store.set_thread(other, "C1", "100.2", replacing=None)

    found = await store.find_conversation_by_thread("C1", "100.1")

    assert found == await store.get_conversation(cid)
    assert found is not None
    assert found.id == cid
    assert await store.find_conversation_by_thread("C2", "100.1") is None  # other channel
    assert await store.clear_thread(cid, "100.1")
    assert await store.find_conversation_by_thread("C1", "100.1") is None
    assert await store.set_thread(cid, "C2", "300.1", replacing=None)
    assert await store.find_conversation_by_thread("C1", "100.1") is None
    found = await store.find_conversation_by_thread("C2", "300.1")
    assert found is not None
    assert found.id == cid
    found = await store.find_conversation_by_thread("C1", "100.2")
    assert found is not None
    assert found.id == other


@pytest.mark.parametrize("keyword", list(KeywordMark))
async def test_record_inbound_keeps_the_keyword_mark(store: Store, keyword: KeywordMark) -> None:
    record = await store.record_inbound(sms("SM1", body="STOP"), keyword=keyword)

    assert record.created is True
    assert record.message.keyword is keyword
    assert record.message.purpose is MessagePurpose.REPLY
    assert await store.get_message(record.message.id) == record.message
    assert await store.get_message_by_sid("SM1") == record.message
    # Posting it sets its Slack ts: the mark stays.
    await store.set_message_slack_ts(record.message.id, "C1", "100.5")
    posted = await store.get_message_by_slack_ts("C1", "100.5")
    assert posted is not None
    assert posted.keyword is keyword
    [job] = await store.claim_jobs("w", now=T0, limit=10, lease_seconds=30)
    assert (job.kind, job.message_id) == (JobKind.POST_INBOUND, record.message.id)


async def test_a_known_sid_keeps_its_first_keyword_mark(store: Store) -> None:
    first = await store.record_inbound(sms("SM1", body="STOP"), keyword=KeywordMark.OPT_OUT)

    unmarked = await store.record_inbound(sms("SM1", body="STOP"))
    remarked = await store.record_inbound(sms("SM1", body="STOP"), keyword=KeywordMark.HELP)

    assert unmarked.created is False
    assert remarked.created is False
    assert unmarked.message == remarked.message == first.message
    stored = await store.get_message(first.message.id)
    assert stored is not None
    assert stored.keyword is KeywordMark.OPT_OUT
    other = await store.record_inbound(sms("SM2", body="hi"))
    assert other.message.keyword is None


async def test_mark_header_shown(store: Store) -> None:
    cid = (await store.record_inbound(sms("SM1"))).conversation.id

    await store.mark_header_shown(cid, LATER)
    conversation = await store.get_conversation(cid)
    assert conversation is not None
    assert conversation.header_activity_at == LATER

    await store.mark_header_shown(cid, T0)  # a plain set, not a max
    conversation = await store.get_conversation(cid)
    assert conversation is not None
    assert conversation.header_activity_at == T0
    assert conversation.last_activity_at == T0
    await store.mark_header_shown(12345, T0)  # unknown: nothing to do, no error


async def test_set_message_slack_ts(store: Store) -> None:
    message = (await store.record_inbound(sms("SM1"))).message

    await store.set_message_slack_ts(message.id, "C1", "100.5")

    stored = await store.get_message(message.id)
    assert stored == message.model_copy(update={"slack_channel": "C1", "slack_ts": "100.5"})
    await store.set_message_slack_ts("nope", "C1", "1.0")  # unknown: no error


async def test_mark_media_posted(store: Store) -> None:
    message = (await store.record_inbound(sms("SM1"))).message

    await store.mark_media_posted(message.id)

    stored = await store.get_message(message.id)
    assert stored == message.model_copy(update={"media_posted": True})
    await store.mark_media_posted(message.id)  # again: no change, no error
    assert await store.get_message(message.id) == stored
    await store.mark_media_posted("nope")  # unknown: no error


async def test_get_message_by_slack_ts_of_an_inbound_text(store: Store) -> None:
    message = (await store.record_inbound(sms("SM1"))).message
    other = (await store.record_inbound(sms("SM2"))).message
    assert await store.get_message_by_slack_ts("C1", "100.5") is None  # not posted yet

    await store.set_message_slack_ts(message.id, "C1", "100.5")
    await store.set_message_slack_ts(other.id, "C1", "100.6")

    found = await store.get_message_by_slack_ts("C1", "100.5")
    assert found == await store.get_message(message.id)
    assert found is not None
    assert found.id == message.id
    assert await store.get_message_by_slack_ts("C2", "100.5") is None
    found = await store.get_message_by_slack_ts("C1", "100.6")
    assert found is not None
    assert found.id == other.id


async def test_contacts_put_get_and_replace(store: Store) -> None:
    contact = Contact(
        phone=SUBSCRIBER, name="Ada", fields={"plan": "gold", "acct. no": "7", "$x": "y"}
    )
    await store.put_contact(contact)
    assert await store.get_contact(SUBSCRIBER) == contact

    replaced = Contact(phone=SUBSCRIBER, name=None, fields={"plan": "basic"})
    await store.put_contact(replaced)
    assert await store.get_contact(SUBSCRIBER) == replaced  # a replace, not a merge
    assert await store.get_contact("+15551230002") is None


async def test_datetimes_come_back_aware_utc(store: Store) -> None:
    at = datetime(2026, 3, 2, 14, 0, 0, 123456, tzinfo=timezone(timedelta(hours=2)))
    record = await store.record_inbound(sms("SM1", at=at))
    message = await store.get_message(record.message.id)
    conversation = await store.get_conversation(record.conversation.id)
    assert message is not None
    assert conversation is not None

    for value in (message.created_at, conversation.created_at, conversation.last_activity_at):
        assert value.utcoffset() == timedelta(0)
        # MongoDB keeps milliseconds, SQLite about microseconds.
        assert abs(value - at) < timedelta(milliseconds=1)
    assert message == record.message
    assert conversation == record.conversation
    assert message.created_at.astimezone(UTC).hour == 12


async def test_a_burst_of_concurrent_texts_is_recorded_once_each_in_order(store: Store) -> None:
    """Many webhooks at once (group commit on SQLite): every sid once, repeats as
    duplicates, one conversation per number, every text with one post job. (The
    order of concurrent calls is not defined; sequential ones keep theirs.)"""
    texts = [
        sms(
            f"SMburst{n:03d}",
            subscriber=f"+1415555{1000 + n % 10:04d}",
            body=f"text {n}",
            at=T0 + timedelta(milliseconds=n),
        )
        for n in range(120)
    ]
    repeats = texts[::7]
    records = await asyncio.gather(*(store.record_inbound(t) for t in [*texts, *repeats]))

    created = [r for r in records if r.created]
    assert sorted(r.message.sid or "" for r in created) == sorted(t.sid for t in texts)
    assert len({r.conversation.id for r in records}) == 10
    for record in records:
        assert record.conversation.subscriber == (
            next(t for t in texts if t.sid == record.message.sid).subscriber
        )
    posted: list[str] = []
    while jobs := await store.claim_jobs(
        "w", now=T0 + timedelta(hours=1), limit=50, lease_seconds=30
    ):
        for job in jobs:
            message = await store.get_message(str(job.message_id))
            assert message is not None
            posted.append(message.body)
            await store.complete_job(job)
    assert sorted(posted) == sorted(t.body for t in texts)


async def test_conversation_numbers_are_dense(store: Store) -> None:
    """Texts from known subscribers and repeated opens never use up a number: the
    numbers agents type (#2) are 1, 2, 3… in the order conversations opened."""
    await store.record_inbound(sms("SM1", subscriber="+15551230001"))
    for n in range(5):
        await store.record_inbound(sms(f"SM1{n}", subscriber="+15551230001"))
    await store.open_conversation(BUSINESS, "+15551230001")
    await asyncio.gather(
        store.record_inbound(sms("SM2", subscriber="+15551230002")),
        store.record_inbound(sms("SM21", subscriber="+15551230002")),
    )
    opened = await store.open_conversation(BUSINESS, "+15551230003")
    await store.open_conversation(BUSINESS, "+15551230003")
    fourth = await store.record_inbound(sms("SM4", subscriber="+15551230004"))
    assert opened.id == 3
    assert fourth.conversation.id == 4
    found = await store.find_conversation(BUSINESS, "+15551230002")
    assert found is not None
    assert found.id == 2


async def test_processes_opening_conversations_at_once_number_them_densely(
    new_store: StoreFactory,
) -> None:
    one, two = await new_store(), await new_store()
    phones = [f"+1555123{n:04d}" for n in range(10)]
    await asyncio.gather(
        *(
            (one if n % 2 else two).record_inbound(sms(f"SMx{n}", subscriber=phone))
            for n, phone in enumerate(phones * 2)
        )
    )
    found = [await one.find_conversation(BUSINESS, phone) for phone in phones]
    assert sorted(c.id for c in found if c is not None) == list(range(1, 11))
