"""The first-response timer's store role, on every engine: a text arms one check per
conversation in its own write, which text a conversation waits with, and a wait's
breach recorded once."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bridge.events import SlaBreached
from bridge.models import (
    ASSISTANT,
    JobKind,
    KeywordMark,
    MessagePurpose,
    OutboundReply,
    utcnow,
)
from bridge.store.base import Store
from tests.contract.conftest import T0, StoreFactory, sms


def reply(cid: int, ts: str, author: str = "U1") -> OutboundReply:
    return OutboundReply(
        conversation_id=cid, body="On it!", author=author, slack_channel="C1", slack_ts=ts
    )


def breach(cid: int, message_id: str) -> SlaBreached:
    return SlaBreached(
        conversation_id=cid,
        message_id=message_id,
        since=T0,
        deadline=T0 + timedelta(minutes=15),
        minutes=15,
        notify=("U1",),
    )


async def test_a_text_arms_one_check_per_conversation_due_after_the_minutes(
    store: Store,
) -> None:
    store.first_response_minutes = 15
    first = await store.record_inbound(sms("SM1"))
    await store.record_inbound(sms("SM2", at=T0 + timedelta(minutes=1)))  # no second timer
    depth = await store.queue_depth()
    assert depth[JobKind.CHECK_SLA.value] == 1
    assert depth[JobKind.POST_INBOUND.value] == 2
    early = await store.claim_jobs(
        "w", now=T0 + timedelta(minutes=15) - timedelta(seconds=1), limit=10, lease_seconds=30
    )
    assert JobKind.CHECK_SLA not in {job.kind for job in early}
    due = await store.claim_jobs("w", now=T0 + timedelta(minutes=15), limit=10, lease_seconds=30)
    [check] = [job for job in due if job.kind is JobKind.CHECK_SLA]
    assert check.conversation_id == first.conversation.id
    assert check.message_id == first.message.id


async def test_no_timer_unless_set_nor_for_a_keyword(store: Store) -> None:
    await store.record_inbound(sms("SM1"))
    store.first_response_minutes = 15
    await store.record_inbound(sms("SM2", subscriber="+15551230002"), keyword=KeywordMark.OPT_OUT)
    assert JobKind.CHECK_SLA.value not in await store.queue_depth()


async def test_the_wait_begins_with_the_first_text_since_the_last_answer(store: Store) -> None:
    record = await store.record_inbound(sms("SM1"))
    cid = record.conversation.id
    await store.record_inbound(sms("SM2", at=T0 + timedelta(minutes=1)))
    await store.record_inbound(
        sms("SM3", at=T0 + timedelta(minutes=2), body="HELP"), keyword=KeywordMark.HELP
    )
    waiting = await store.waiting_since(cid)
    assert waiting is not None
    assert waiting.id == record.message.id
    # The bridge's own texts (an away reply, a keyword's answer) are no answer.
    await store.record_system_text(cid, "We are closed.", MessagePurpose.AWAY_REPLY, key="away")
    assert (await store.waiting_since(cid)) == waiting
    # A held or blocked reply did not answer; a queued one did.
    await store.record_outbound(reply(cid, "1.1"), send_at=None)
    assert (await store.waiting_since(cid)) == waiting
    await store.record_outbound(reply(cid, "1.2"), send_at=utcnow())
    assert await store.waiting_since(cid) is None
    # A text after it begins the next wait; a keyword alone does not.
    later = utcnow() + timedelta(minutes=1)
    await store.record_inbound(sms("SM4", at=later, body="STOP"), keyword=KeywordMark.OPT_OUT)
    assert await store.waiting_since(cid) is None
    fourth = await store.record_inbound(sms("SM5", at=later + timedelta(seconds=1)))
    assert (await store.waiting_since(cid)) == fourth.message


async def test_the_assistants_reply_answers(store: Store) -> None:
    record = await store.record_inbound(sms("SM1"))
    cid = record.conversation.id
    await store.record_system_text(
        cid, "We open at 7.", MessagePurpose.REPLY, key="auto:1", author=ASSISTANT
    )
    assert await store.waiting_since(cid) is None


async def test_a_breach_is_recorded_once_with_its_note(
    store: Store, new_store: StoreFactory
) -> None:
    record = await store.record_inbound(sms("SM1"))
    cid = record.conversation.id
    other = await new_store()  # a second process on the same data
    recorded = await asyncio.gather(
        store.record_breach(breach(cid, record.message.id)),
        other.record_breach(breach(cid, record.message.id)),
    )
    assert sorted(recorded) == [False, True]
    assert (await store.queue_depth())[JobKind.THREAD_NOTE.value] == 1
    assert not await store.record_breach(breach(cid, record.message.id))
    assert (await store.queue_depth())[JobKind.THREAD_NOTE.value] == 1


async def test_a_text_while_the_check_runs_makes_it_run_once_more(store: Store) -> None:
    store.first_response_minutes = 15
    await store.record_inbound(sms("SM1"))
    due = await store.claim_jobs("w", now=T0 + timedelta(minutes=15), limit=10, lease_seconds=30)
    [check] = [job for job in due if job.kind is JobKind.CHECK_SLA]
    # It may have looked before this text was stored: it must look again.
    await store.record_inbound(sms("SM2", at=T0 + timedelta(minutes=15)))
    assert not await store.complete_job(check)
    assert (await store.queue_depth())[JobKind.CHECK_SLA.value] == 1
