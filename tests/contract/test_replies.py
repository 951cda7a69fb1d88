"""Agents' replies: recording, the undo window, sending and delivery, on every engine."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from bridge.jobs import conversation_lane, sms_lane
from bridge.models import (
    DeliveryStatus,
    Direction,
    JobKind,
    MessagePurpose,
    OutboundReply,
    utcnow,
)
from bridge.store.base import Store, StoreConflict
from tests.contract.conftest import T0, StoreFactory, sms

SEND_AT = T0 + timedelta(seconds=10)
FAR = datetime(2100, 1, 1, tzinfo=UTC)  # later than any wall clock running these tests


async def open_thread(store: Store) -> int:
    """A conversation with a thread in C1, its inbound post done."""
    record = await store.record_inbound(sms("SM1"))
    cid = record.conversation.id
    assert await store.set_thread(cid, "C1", "100.1", replacing=None)
    [post] = await store.claim_jobs("w", now=T0, limit=10, lease_seconds=30)
    assert await store.complete_job(post)
    return cid


def reply(
    cid: int, ts: str = "200.1", body: str = "On our way", channel: str = "C1"
) -> OutboundReply:
    return OutboundReply(
        conversation_id=cid, body=body, author="U1", slack_channel=channel, slack_ts=ts
    )


async def queued(store: Store, ts: str = "200.1") -> str:
    cid = await open_thread(store)
    return (await store.record_outbound(reply(cid, ts), send_at=SEND_AT)).message.id


async def sent(store: Store, sid: str = "SMout1") -> str:
    message_id = await queued(store)
    assert await store.begin_send(message_id) is not None
    await store.finish_send(message_id, DeliveryStatus.SENT, sid=sid)
    return message_id


async def test_record_outbound_stores_a_queued_reply_and_its_send_job(store: Store) -> None:
    cid = await open_thread(store)

    record = await store.record_outbound(reply(cid), send_at=SEND_AT)

    assert record.created is True
    message = record.message
    assert message.conversation_id == cid
    assert message.direction is Direction.OUTBOUND
    assert message.body == "On our way"
    assert message.author == "U1"
    assert (message.slack_channel, message.slack_ts) == ("C1", "200.1")
    assert message.status is DeliveryStatus.QUEUED
    assert message.sid is None
    assert message.error_code is None
    assert message.media == ()
    assert message.media_posted is False
    assert await store.get_message(message.id) == message
    assert await store.get_message_by_slack_ts("C1", "200.1") == message
    assert await store.queue_depth() == {JobKind.SEND_SMS.value: 1}

    before = SEND_AT - timedelta(milliseconds=1)
    assert await store.claim_jobs("w", now=before, limit=10, lease_seconds=30) == []
    [job] = await store.claim_jobs("w", now=SEND_AT, limit=10, lease_seconds=30)
    assert job.key == f"send:{message.id}"
    assert job.kind is JobKind.SEND_SMS
    assert job.lane == sms_lane(cid)
    assert job.conversation_id == cid
    assert job.message_id == message.id
    assert job.attempts == 1


async def test_a_waiting_reply_does_not_hold_up_the_conversation_lane(store: Store) -> None:
    cid = await open_thread(store)
    await store.record_outbound(reply(cid), send_at=SEND_AT)
    await store.record_inbound(sms("SM2"))

    [post] = await store.claim_jobs("w", now=T0, limit=10, lease_seconds=30)

    assert post.kind is JobKind.POST_INBOUND
    assert post.lane == conversation_lane(cid)


async def test_record_outbound_is_idempotent_by_slack_message(store: Store) -> None:
    cid = await open_thread(store)
    first = await store.record_outbound(reply(cid), send_at=SEND_AT)

    # A retried Slack event: even another body or send time must not win.
    again = await store.record_outbound(reply(cid, body="other"), send_at=T0)

    assert again.created is False
    assert again.message == first.message
    assert await store.queue_depth() == {JobKind.SEND_SMS.value: 1}
    assert await store.claim_jobs("w", now=T0, limit=10, lease_seconds=30) == []
    [job] = await store.claim_jobs("w", now=SEND_AT, limit=10, lease_seconds=30)
    assert await store.complete_job(job)

    late = await store.record_outbound(reply(cid), send_at=SEND_AT)  # after it was sent
    assert late.created is False
    assert late.message == first.message
    assert await store.queue_depth() == {}


async def test_other_slack_messages_are_other_replies(store: Store) -> None:
    cid = await open_thread(store)
    first = await store.record_outbound(reply(cid, "200.1"), send_at=SEND_AT)
    second = await store.record_outbound(reply(cid, "200.2"), send_at=SEND_AT)
    other_channel = await store.record_outbound(reply(cid, "200.1", channel="C2"), send_at=SEND_AT)

    assert second.created is True
    assert other_channel.created is True
    assert len({first.message.id, second.message.id, other_channel.message.id}) == 3
    assert await store.queue_depth() == {JobKind.SEND_SMS.value: 3}
    # One lane: the replies go out one at a time, in order.
    [job] = await store.claim_jobs("w", now=SEND_AT, limit=10, lease_seconds=30)
    assert job.message_id == first.message.id
    assert await store.complete_job(job)
    [job] = await store.claim_jobs("w", now=SEND_AT, limit=10, lease_seconds=30)
    assert job.message_id == second.message.id


async def test_concurrent_record_outbound_creates_exactly_once(new_store: StoreFactory) -> None:
    one, two = await new_store(), await new_store()
    cid = await open_thread(one)

    records = await asyncio.gather(
        *(s.record_outbound(reply(cid), send_at=SEND_AT) for s in (one, two, one, two, one))
    )

    assert sum(r.created for r in records) == 1
    assert len({r.message.id for r in records}) == 1
    assert await two.queue_depth() == {JobKind.SEND_SMS.value: 1}
    assert await two.get_message(records[0].message.id) == records[0].message


async def test_record_outbound_moves_last_activity_forward(store: Store) -> None:
    cid = await open_thread(store)

    record = await store.record_outbound(reply(cid), send_at=SEND_AT)

    conversation = await store.get_conversation(cid)
    assert conversation is not None
    assert conversation.last_activity_at == record.message.created_at
    assert record.message.created_at > T0

    await store.record_inbound(sms("SM2", at=FAR))
    await store.record_outbound(reply(cid, "200.2"), send_at=SEND_AT)
    conversation = await store.get_conversation(cid)
    assert conversation is not None
    assert conversation.last_activity_at == FAR  # never moved back


async def test_edit_unsent_only_while_queued(store: Store) -> None:
    message_id = await queued(store)

    assert await store.edit_unsent(message_id, "On our way, 5 min") is True
    message = await store.get_message(message_id)
    assert message is not None
    assert message.body == "On our way, 5 min"
    assert message.status is DeliveryStatus.QUEUED

    attempt = await store.begin_send(message_id)
    assert attempt is not None
    assert attempt.message.body == "On our way, 5 min"  # the edit is what is sent
    assert await store.edit_unsent(message_id, "too late") is False
    message = await store.get_message(message_id)
    assert message is not None
    assert message.body == "On our way, 5 min"
    assert await store.edit_unsent("nope", "x") is False


async def test_cancel_unsent_only_while_queued(store: Store) -> None:
    message_id = await queued(store)

    assert await store.cancel_unsent(message_id) is True

    message = await store.get_message(message_id)
    assert message is not None
    assert message.status is DeliveryStatus.CANCELLED
    assert await store.cancel_unsent(message_id) is False
    assert await store.edit_unsent(message_id, "x") is False
    assert await store.begin_send(message_id) is None  # the send job finds nothing to do
    assert await store.cancel_unsent("nope") is False


async def test_cancel_after_the_send_began_is_too_late(store: Store) -> None:
    message_id = await queued(store)
    assert await store.begin_send(message_id) is not None

    assert await store.cancel_unsent(message_id) is False

    message = await store.get_message(message_id)
    assert message is not None
    assert message.status is DeliveryStatus.SENDING


async def test_begin_send_records_the_attempt(store: Store) -> None:
    message_id = await queued(store)

    first = await store.begin_send(message_id)

    assert first is not None
    assert first.resumed is False
    assert first.message.status is DeliveryStatus.SENDING
    assert await store.get_message(message_id) == first.message

    # The worker died before recording Twilio's answer: the next attempt is told.
    second = await store.begin_send(message_id)
    assert second is not None
    assert second.resumed is True
    assert second.message == first.message

    await store.finish_send(message_id, DeliveryStatus.SENT, sid="SMout1")
    assert await store.begin_send(message_id) is None
    assert await store.begin_send("nope") is None


async def test_begin_send_says_when_the_first_attempt_began(store: Store) -> None:
    message_id = await queued(store)
    before = utcnow() - timedelta(milliseconds=1)  # MongoDB keeps milliseconds

    first = await store.begin_send(message_id)
    after = utcnow()

    assert first is not None
    assert before <= first.began_at <= after
    # Resumed: Twilio may hold a message of that first attempt, never an older one.
    resumed = await store.begin_send(message_id)
    assert resumed is not None
    assert resumed.began_at == first.began_at


async def test_finish_send_with_another_messages_sid_is_a_conflict(store: Store) -> None:
    first = await store.get_message(await sent(store, sid="SMout1"))
    assert first is not None
    again = reply(first.conversation_id, "200.2")
    second = (await store.record_outbound(again, send_at=SEND_AT)).message.id
    assert await store.begin_send(second) is not None

    with pytest.raises(StoreConflict):
        await store.finish_send(second, DeliveryStatus.SENT, sid="SMout1")

    unchanged = await store.get_message(second)
    assert unchanged is not None
    assert (unchanged.status, unchanged.sid) == (DeliveryStatus.SENDING, None)
    assert await store.get_message_by_sid("SMout1") == first


async def test_begin_send_of_an_inbound_text_is_none(store: Store) -> None:
    record = await store.record_inbound(sms("SM1"))
    assert record.message.status is DeliveryStatus.RECEIVED
    assert await store.begin_send(record.message.id) is None


async def test_finish_send_stores_the_outcome(store: Store) -> None:
    message_id = await queued(store)
    await store.begin_send(message_id)

    message = await store.finish_send(message_id, DeliveryStatus.SENT, sid="SMout1")

    assert message.status is DeliveryStatus.SENT
    assert message.sid == "SMout1"
    assert message.error_code is None
    assert message.body == "On our way"
    assert message.author == "U1"
    assert await store.get_message(message_id) == message
    assert await store.get_message_by_sid("SMout1") == message


async def test_finish_send_stores_a_refusal(store: Store) -> None:
    message_id = await queued(store)
    await store.begin_send(message_id)

    message = await store.finish_send(message_id, DeliveryStatus.FAILED, error_code=21610)

    assert (message.status, message.error_code, message.sid) == (
        DeliveryStatus.FAILED,
        21610,
        None,
    )
    assert await store.get_message(message_id) == message
    with pytest.raises(KeyError):
        await store.finish_send("nope", DeliveryStatus.SENT, sid="SMout9")


async def test_update_delivery_moves_forward(store: Store) -> None:
    message_id = await sent(store, "SMout1")

    delivered = await store.update_delivery("SMout1", DeliveryStatus.DELIVERED, None)

    assert delivered is not None
    assert delivered.id == message_id
    assert delivered.status is DeliveryStatus.DELIVERED
    assert await store.get_message(message_id) == delivered


async def test_update_delivery_never_moves_back_or_sideways(store: Store) -> None:
    message_id = await sent(store, "SMout1")
    assert await store.update_delivery("SMout1", DeliveryStatus.SENT, None) is None  # a tie
    assert await store.update_delivery("SMout1", DeliveryStatus.DELIVERED, None) is not None

    # Late or repeated callbacks.
    assert await store.update_delivery("SMout1", DeliveryStatus.SENT, None) is None
    assert await store.update_delivery("SMout1", DeliveryStatus.SENDING, None) is None
    assert await store.update_delivery("SMout1", DeliveryStatus.DELIVERED, None) is None
    assert await store.update_delivery("SMout1", DeliveryStatus.FAILED, 30003) is None

    message = await store.get_message(message_id)
    assert message is not None
    assert (message.status, message.error_code) == (DeliveryStatus.DELIVERED, None)


async def test_update_delivery_of_a_failure_keeps_it(store: Store) -> None:
    message_id = await sent(store, "SMout1")

    failed = await store.update_delivery("SMout1", DeliveryStatus.FAILED, 30003)

    assert failed is not None
    assert (failed.status, failed.error_code) == (DeliveryStatus.FAILED, 30003)
    assert await store.update_delivery("SMout1", DeliveryStatus.DELIVERED, None) is None
    assert await store.get_message(message_id) == failed


async def test_update_delivery_of_an_unknown_sid_is_none(store: Store) -> None:
    await sent(store, "SMout1")
    assert await store.update_delivery("SMnope", DeliveryStatus.DELIVERED, None) is None


async def test_a_held_reply_has_no_job_until_released(store: Store) -> None:
    cid = await open_thread(store)
    record = await store.record_outbound(reply(cid), send_at=None)
    assert record.message.status is DeliveryStatus.HELD
    assert (await store.record_outbound(reply(cid), send_at=None)).created is False
    assert await store.claim_jobs("w", now=FAR, limit=10, lease_seconds=30) == []
    assert await store.begin_send(record.message.id) is None

    released = await store.release_held(
        record.message.id, "support only", MessagePurpose.REPLY, send_at=SEND_AT
    )
    assert released is not None
    assert (released.status, released.body) == (DeliveryStatus.QUEUED, "support only")
    assert (
        await store.release_held(record.message.id, "again", MessagePurpose.REPLY, send_at=SEND_AT)
        is None
    )
    [job] = await store.claim_jobs("w", now=SEND_AT, limit=10, lease_seconds=30)
    assert (job.kind, job.lane) == (JobKind.SEND_SMS, sms_lane(cid))
    attempt = await store.begin_send(record.message.id)
    assert attempt is not None
    assert attempt.message.body == "support only"


async def test_a_cancelled_held_reply_cannot_be_released(store: Store) -> None:
    cid = await open_thread(store)
    record = await store.record_outbound(reply(cid), send_at=None, purpose=MessagePurpose.MARKETING)
    assert record.message.purpose is MessagePurpose.MARKETING
    assert await store.cancel_unsent(record.message.id) is True
    assert (
        await store.release_held(record.message.id, "x", MessagePurpose.REPLY, send_at=SEND_AT)
        is None
    )
    assert await store.claim_jobs("w", now=FAR, limit=10, lease_seconds=30) == []
    message = await store.get_message(record.message.id)
    assert message is not None
    assert message.status is DeliveryStatus.CANCELLED


async def test_a_status_callback_never_touches_an_inbound_text(store: Store) -> None:
    record = await store.record_inbound(sms("SM" + "b" * 32))
    assert await store.update_delivery("SM" + "b" * 32, DeliveryStatus.FAILED, 21610) is None
    message = await store.get_message(record.message.id)
    assert message is not None
    assert message.status is DeliveryStatus.RECEIVED
    assert message.error_code is None
