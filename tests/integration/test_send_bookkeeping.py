"""The outbox and the reply sender when their bookkeeping meets trouble. A store that
cannot record an outcome (a key that is another record's) ends the job at once and
visibly, instead of failing the same way for an hour and a half; a stop never hangs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bridge.delivery.errors import RetryLater
from bridge.delivery.outbox import Outbox, RetryPolicy
from bridge.metrics import Metrics
from bridge.models import (
    DeliveryStatus,
    InboundSms,
    Job,
    JobKind,
    NewJob,
    OutboundReply,
    utcnow,
)
from bridge.store.base import StoreConflict
from bridge.store.sqlite import SQLiteStore, rows
from bridge.threading.sending import IN_FLIGHT, LOOK_AGAIN, NotTaken, ReplySender, Sender, SmsPort
from tests.support import NoMentions, eventually

BUSINESS = "+14155550100"
ANA = "+14155550123"


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    store = SQLiteStore(tmp_path / "bridge.db")
    await store.open()
    yield store
    await store.close()


async def reply(store: SQLiteStore, ts: str) -> str:
    """An agent's reply, queued and due now, in the conversation the text opens (the
    same one every time: the text is stored once); returns its message id."""
    record = await store.record_inbound(
        InboundSms(sid="SMin1", business_number=BUSINESS, subscriber=ANA, body="hi")
    )
    conversation = record.conversation.id
    await store.set_thread(conversation, "C1", "100.1", replacing=None)
    outbound = OutboundReply(
        conversation_id=conversation, body="ok thanks", author="U1", slack_channel="C1", slack_ts=ts
    )
    return (await store.record_outbound(outbound, send_at=utcnow())).message.id


async def send_job(store: SQLiteStore, message_id: str) -> Job:
    jobs = await store.claim_jobs("w", now=utcnow(), limit=10, lease_seconds=30)
    return next(job for job in jobs if job.message_id == message_id)


async def sent_earlier(store: SQLiteStore, sid: str) -> None:
    first = await reply(store, "200.1")
    job = await send_job(store, first)
    assert await store.begin_send(first) is not None
    await store.finish_send(first, DeliveryStatus.SENT, sid=sid)
    assert await store.complete_job(job)


async def test_a_job_whose_write_conflicts_dies_at_once_and_is_reported(
    store: SQLiteStore,
) -> None:
    await sent_earlier(store, "SMtaken")
    second = await reply(store, "200.2")
    assert await store.begin_send(second) is not None
    attempts: list[int] = []
    reported: list[Job] = []

    async def record(job: Job) -> None:
        attempts.append(job.attempts)
        await store.finish_send(second, DeliveryStatus.SENT, sid="SMtaken")

    async def report(job: Job) -> None:
        reported.append(job)

    outbox = Outbox(store, Metrics(), poll_seconds=0.01, policy=RetryPolicy(first_delay=0.01))
    outbox.register(JobKind.SYNC_HEADER, record)
    outbox.register(JobKind.PUBLISH, report)
    await store.enqueue(NewJob(key="k", kind=JobKind.SYNC_HEADER, lane="l"), run_at=utcnow())
    await outbox.start()
    try:
        # (the replies' own send jobs have no handler here: they are reported too)
        await eventually(lambda: any(r.key == "publish:dead:k" for r in reported))
    finally:
        await outbox.stop()
    assert attempts == [1]
    assert "SMtaken" in (next(r for r in reported if r.key == "publish:dead:k").note or "")


class Phone:
    """Twilio handing back a sid the store already holds for another reply."""

    def wait_for(self, sender: Sender) -> float:
        return 0.0

    async def send(self, to: str, sender: Sender, body: str) -> str:
        return "SMtaken"

    async def find_sent(self, to: str, sender: Sender, body: str, since: datetime) -> list[str]:
        return []


def reply_sender(store: SQLiteStore, twilio: SmsPort) -> ReplySender:
    return ReplySender(
        store, twilio, NoMentions(), messaging_service_sid=None, on_enqueued=lambda: None
    )


async def test_a_reply_whose_send_cannot_be_recorded_ends_failed_and_its_author_is_told(
    store: SQLiteStore,
) -> None:
    await sent_earlier(store, "SMtaken")
    second = await reply(store, "200.2")
    job = await send_job(store, second)
    sender = reply_sender(store, Phone())

    with pytest.raises(StoreConflict):  # the outbox reports the dead job
        await sender(job)

    message = await store.get_message(second)
    assert message is not None
    assert message.status is DeliveryStatus.FAILED
    depth = await store.queue_depth()
    assert depth.get(JobKind.TELL_AGENT.value) == 1
    assert depth.get(JobKind.MARK_DELIVERY.value) == 1


async def test_a_stop_right_after_a_wake_stops_the_outbox(store: SQLiteStore) -> None:
    outbox = Outbox(store, Metrics(), poll_seconds=30)
    await outbox.start()
    await asyncio.sleep(0.2)  # it found no work and waits for some
    outbox.wake()  # work stored a moment before the stop: both land in one tick
    await asyncio.wait_for(outbox.stop(), timeout=5)


class SlowTwilio:
    """Twilio holding a send past the bridge's timeout: the bridge hears nothing, and
    the message is created only later (`lands`)."""

    def __init__(self) -> None:
        self.sends = 0
        self.created: list[str] = []

    def wait_for(self, sender: Sender) -> float:
        return 0.0

    async def send(self, to: str, sender: Sender, body: str) -> str:
        self.sends += 1
        if self.sends == 1:
            raise RetryLater("Twilio unreachable: TimeoutError")
        return f"SMsent{self.sends}"

    def lands(self) -> None:
        self.created.append("SMheld")

    async def find_sent(self, to: str, sender: Sender, body: str, since: datetime) -> list[str]:
        return list(self.created)


async def test_a_send_twilio_may_still_hold_is_not_made_again_until_it_cannot_be(
    store: SQLiteStore,
) -> None:
    message_id = await reply(store, "200.3")
    job = await send_job(store, message_id)
    twilio = SlowTwilio()
    sender = reply_sender(store, twilio)
    with pytest.raises(RetryLater):  # the answer never came
        await sender(job)
    # The retry looks before Twilio has created the held message: it must not send.
    with pytest.raises(RetryLater) as waiting:
        await sender(job)
    # It looks again soon: Twilio makes a message it held within seconds, and the reply
    # need not wait out the whole minute (a drain after a Twilio outage waited for it).
    assert waiting.value.after is not None
    assert 0 < waiting.value.after <= LOOK_AGAIN
    assert twilio.sends == 1

    twilio.lands()
    await sender(job)
    message = await store.get_message(message_id)
    assert message is not None
    assert (message.status, message.sid, twilio.sends) == (DeliveryStatus.SENT, "SMheld", 1)


async def test_a_send_twilio_never_made_is_made_again_once_it_cannot_be_in_flight(
    store: SQLiteStore,
) -> None:
    message_id = await reply(store, "200.4")
    job = await send_job(store, message_id)
    twilio = SlowTwilio()
    sender = reply_sender(store, twilio)
    with pytest.raises(RetryLater):
        await sender(job)
    long_ago = rows.ts(utcnow() - IN_FLIGHT - timedelta(seconds=1))
    await store.db.execute(
        "UPDATE messages SET send_began_at = ? WHERE id = ?", (long_ago, message_id)
    )
    await sender(job)
    message = await store.get_message(message_id)
    assert message is not None
    assert (message.status, message.sid, twilio.sends) == (DeliveryStatus.SENT, "SMsent2", 2)


class BusyTwilio(SlowTwilio):
    """Twilio refusing the first send with a 429: nothing was made."""

    async def send(self, to: str, sender: Sender, body: str) -> str:
        self.sends += 1
        if self.sends == 1:
            raise NotTaken("Twilio answered 429")
        return f"SMsent{self.sends}"

    async def find_sent(self, to: str, sender: Sender, body: str, since: datetime) -> list[str]:
        raise AssertionError("nothing of a refused attempt is looked for")


async def test_a_send_twilio_did_not_take_is_made_again_without_looking_or_waiting(
    store: SQLiteStore,
) -> None:
    message_id = await reply(store, "200.5")
    job = await send_job(store, message_id)
    twilio = BusyTwilio()
    sender = reply_sender(store, twilio)
    with pytest.raises(NotTaken):
        await sender(job)
    await sender(job)
    message = await store.get_message(message_id)
    assert message is not None
    assert (message.status, message.sid, twilio.sends) == (DeliveryStatus.SENT, "SMsent2", 2)
