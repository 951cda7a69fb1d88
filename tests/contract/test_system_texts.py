"""Texts the bridge itself sends (confirmations, HELP answers), on every engine."""

from __future__ import annotations

import asyncio
from datetime import timedelta

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
from bridge.store.base import Store
from tests.contract.conftest import T0, StoreFactory, sms

CONFIRMATION = "You are unsubscribed. Reply START to resubscribe."


async def conversation(store: Store) -> int:
    """A conversation whose inbound post is done: the queue is empty."""
    record = await store.record_inbound(sms("SM1", body="STOP"))
    [post] = await store.claim_jobs("w", now=T0, limit=10, lease_seconds=30)
    assert await store.complete_job(post)
    return record.conversation.id


async def test_record_system_text_queues_the_text_and_its_send_job(store: Store) -> None:
    cid = await conversation(store)
    before = utcnow()

    message = await store.record_system_text(
        cid, CONFIRMATION, MessagePurpose.OPT_OUT_CONFIRMATION, key="stop:SM1"
    )

    assert message is not None
    assert message.id == "stop:SM1"
    assert message.conversation_id == cid
    assert message.direction is Direction.OUTBOUND
    assert message.body == CONFIRMATION
    assert message.purpose is MessagePurpose.OPT_OUT_CONFIRMATION
    assert message.status is DeliveryStatus.QUEUED
    assert message.author is None
    assert (message.slack_channel, message.slack_ts) == (None, None)
    assert message.sid is None
    assert message.error_code is None
    assert message.keyword is None
    assert message.media == ()
    assert message.media_posted is False
    assert before - timedelta(seconds=1) <= message.created_at <= utcnow()
    assert await store.get_message("stop:SM1") == message
    assert await store.queue_depth() == {JobKind.SEND_SMS.value: 1}

    # Due now: no undo window.
    early = message.created_at - timedelta(seconds=1)
    assert await store.claim_jobs("w", now=early, limit=10, lease_seconds=30) == []
    [job] = await store.claim_jobs("w", now=utcnow(), limit=10, lease_seconds=30)
    assert job.key == "send:stop:SM1"
    assert job.kind is JobKind.SEND_SMS
    assert job.lane == sms_lane(cid) == f"sms:{cid}"
    assert job.conversation_id == cid
    assert job.message_id == "stop:SM1"
    assert job.attempts == 1


async def test_a_known_key_changes_nothing(store: Store) -> None:
    cid = await conversation(store)
    first = await store.record_system_text(
        cid, CONFIRMATION, MessagePurpose.OPT_OUT_CONFIRMATION, key="stop:SM1"
    )
    assert first is not None

    again = await store.record_system_text(
        cid, "other words", MessagePurpose.HELP_REPLY, key="stop:SM1"
    )

    assert again is None
    assert await store.get_message("stop:SM1") == first
    assert await store.queue_depth() == {JobKind.SEND_SMS.value: 1}


async def test_a_known_key_after_the_text_was_sent(store: Store) -> None:
    cid = await conversation(store)
    first = await store.record_system_text(
        cid, CONFIRMATION, MessagePurpose.OPT_OUT_CONFIRMATION, key="stop:SM1"
    )
    assert first is not None
    [job] = await store.claim_jobs("w", now=utcnow(), limit=10, lease_seconds=30)
    assert await store.begin_send("stop:SM1") is not None
    sent = await store.finish_send("stop:SM1", DeliveryStatus.SENT, sid="SMout1")
    assert await store.complete_job(job)

    assert await store.record_system_text(cid, CONFIRMATION, first.purpose, key="stop:SM1") is None

    assert await store.get_message("stop:SM1") == sent
    assert await store.queue_depth() == {}
    assert await store.claim_jobs("w", now=utcnow(), limit=10, lease_seconds=30) == []


async def test_concurrent_calls_with_one_key_queue_it_once(new_store: StoreFactory) -> None:
    one, two = await new_store(), await new_store()
    cid = await conversation(one)

    results = await asyncio.gather(
        *(
            s.record_system_text(cid, CONFIRMATION, MessagePurpose.HELP_REPLY, key="help:SM1")
            for s in (one, two, one, two)
        )
    )

    [message] = [r for r in results if r is not None]
    assert await two.get_message("help:SM1") == message
    assert await one.queue_depth() == {JobKind.SEND_SMS.value: 1}


async def test_other_keys_are_other_texts(store: Store) -> None:
    cid = await conversation(store)
    a = await store.record_system_text(cid, "a", MessagePurpose.HELP_REPLY, key="help:SM1")
    b = await store.record_system_text(cid, "b", MessagePurpose.HELP_REPLY, key="help:SM2")

    assert a is not None
    assert b is not None
    assert await store.queue_depth() == {JobKind.SEND_SMS.value: 2}
    # One lane: the second waits for the first.
    [job] = await store.claim_jobs("w", now=utcnow(), limit=10, lease_seconds=30)
    assert job.message_id == "help:SM1"
    assert await store.complete_job(job)
    [job] = await store.claim_jobs("w", now=utcnow(), limit=10, lease_seconds=30)
    assert job.message_id == "help:SM2"


async def test_it_does_not_wait_for_the_conversations_slack_lane(store: Store) -> None:
    record = await store.record_inbound(sms("SM1", body="HELP"))  # its post job pending
    cid = record.conversation.id

    await store.record_system_text(cid, "Help text", MessagePurpose.HELP_REPLY, key="help:SM1")

    jobs = await store.claim_jobs("w", now=utcnow(), limit=10, lease_seconds=30)
    assert {j.lane for j in jobs} == {conversation_lane(cid), sms_lane(cid)}


@pytest.mark.parametrize("purpose", list(MessagePurpose))
async def test_the_purpose_round_trips(store: Store, purpose: MessagePurpose) -> None:
    cid = await conversation(store)
    message = await store.record_system_text(cid, "text", purpose, key=f"k:{purpose.value}")
    assert message is not None
    assert message.purpose is purpose
    assert await store.get_message(message.id) == message

    attempt = await store.begin_send(message.id)
    assert attempt is not None
    assert attempt.message.purpose is purpose
    sent = await store.finish_send(message.id, DeliveryStatus.SENT, sid="SMout1")
    assert sent.purpose is purpose
    delivered = await store.update_delivery("SMout1", DeliveryStatus.DELIVERED, None)
    assert delivered is not None
    assert delivered.purpose is purpose
    assert await store.get_message_by_sid("SMout1") == delivered


async def test_it_can_be_edited_and_cancelled_while_queued(store: Store) -> None:
    cid = await conversation(store)
    await store.record_system_text(cid, "draft", MessagePurpose.HELP_REPLY, key="help:SM1")

    assert await store.edit_unsent("help:SM1", "final") is True
    assert await store.cancel_unsent("help:SM1") is True

    message = await store.get_message("help:SM1")
    assert message is not None
    assert (message.body, message.status) == ("final", DeliveryStatus.CANCELLED)
    assert message.purpose is MessagePurpose.HELP_REPLY
    assert await store.begin_send("help:SM1") is None


async def test_agents_replies_keep_the_reply_purpose(store: Store) -> None:
    cid = await conversation(store)
    assert await store.set_thread(cid, "C1", "100.1", replacing=None)
    reply = OutboundReply(
        conversation_id=cid, body="On our way", author="U1", slack_channel="C1", slack_ts="2.0"
    )

    record = await store.record_outbound(reply, send_at=T0)

    assert record.message.purpose is MessagePurpose.REPLY
    assert record.message.keyword is None
    assert await store.get_message(record.message.id) == record.message
