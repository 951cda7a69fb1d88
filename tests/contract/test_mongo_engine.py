"""What only the MongoDB engine has: repairs after a crash between its writes,
URI handling and the unreachable-server error. The store tests run on the MongoDB
engines alone (mongomock, and a real server when MONGODB_URI is set)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any, cast

import pytest
from pymongo.errors import DuplicateKeyError

from bridge.events import ConversationOpened, MessageReceived, Publishing
from bridge.jobs import conversation_lane, sms_lane
from bridge.models import (
    ConsentEvent,
    ConsentKind,
    ConsentSource,
    ConsentState,
    DeliveryStatus,
    InboundRecord,
    JobKind,
    MessagePurpose,
    NewJob,
    OutboundReply,
    utcnow,
)
from bridge.store.base import Store, StoreUnavailable
from bridge.store.mongo import MongoStore
from tests.contract.conftest import (
    BUSINESS,
    SUBSCRIBER,
    T0,
    StoreFactory,
    mongo_engines,
    sms,
)


class Crash(Exception):
    pass


def first_lane(record: InboundRecord) -> str:
    return conversation_lane(record.conversation.id)


def crash_before_message_document(monkeypatch: pytest.MonkeyPatch, store: Store) -> None:
    """The process dies after record_inbound's durable write (the post job with the
    message in it), before the message's own document is written."""

    async def crash(doc: dict[str, Any]) -> None:
        raise Crash

    monkeypatch.setattr(store, "_ensure_message", crash)


@mongo_engines
async def test_claim_restores_a_message_lost_in_a_crash(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    crash_before_message_document(monkeypatch, store)
    with pytest.raises(Crash):
        await store.record_inbound(sms("SM1", body="still here"))
    monkeypatch.undo()
    assert await store.queue_depth() == {JobKind.POST_INBOUND.value: 1}

    [job] = await store.claim_jobs("w", now=T0, limit=10, lease_seconds=30)

    assert job.message_id is not None
    message = await store.get_message(job.message_id)
    assert message is not None
    assert (message.sid, message.body, message.created_at) == ("SM1", "still here", T0)
    assert message.conversation_id == job.conversation_id


@mongo_engines
async def test_claim_stores_the_jobs_that_follow_a_text_lost_in_a_crash(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The post job carries the text's other jobs (its events): a crash before they
    are stored leaves them in it, and claiming it stores them, once."""
    store.publishing = Publishing(frozenset({ConversationOpened, MessageReceived}))
    crash_before_message_document(monkeypatch, store)
    with pytest.raises(Crash):
        await store.record_inbound(sms("SM1"))
    monkeypatch.undo()
    assert await store.queue_depth() == {JobKind.POST_INBOUND.value: 1}

    claimed = await store.claim_jobs("w", now=T0, limit=10, lease_seconds=30)
    kinds = sorted(job.kind.value for job in claimed)
    assert kinds == [JobKind.POST_INBOUND.value, JobKind.PUBLISH.value, JobKind.PUBLISH.value]
    for job in claimed:
        if job.kind is JobKind.PUBLISH:
            assert await store.complete_job(job)
    [post] = [job for job in claimed if job.kind is JobKind.POST_INBOUND]
    assert await store.retry_job(post, run_at=T0, error="again")
    again = await store.claim_jobs("w", now=T0, limit=10, lease_seconds=30)
    assert [job.key for job in again] == [post.key]  # its events were stored once


@mongo_engines
async def test_provider_retry_after_a_crash_finds_the_message(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    crash_before_message_document(monkeypatch, store)
    with pytest.raises(Crash):
        await store.record_inbound(sms("SM1"))
    monkeypatch.undo()

    retry = await store.record_inbound(sms("SM1"))

    assert retry.created is False
    assert await store.get_message(retry.message.id) == retry.message
    assert await store.queue_depth() == {JobKind.POST_INBOUND.value: 1}
    [job] = await store.claim_jobs("w", now=T0, limit=10, lease_seconds=30)
    assert job.message_id == retry.message.id


@mongo_engines
async def test_claim_restores_a_deleted_message_document(store: Store) -> None:
    record = await store.record_inbound(sms("SM1"))
    mongo = cast(MongoStore, store)
    await mongo._messages.delete_one({"_id": record.message.id})

    await store.claim_jobs("w", now=T0, limit=10, lease_seconds=30)

    assert await store.get_message(record.message.id) == record.message


@mongo_engines
async def test_lane_given_back_late_after_a_crash_frees_at_lease_expiry(store: Store) -> None:
    """A worker that dies between finishing its job and giving its lane back leaves
    the lane held until its lease would have run out, no longer."""
    mongo = cast(MongoStore, store)
    for key in ("a:1", "a:2"):
        await store.enqueue(NewJob(key=key, kind=JobKind.SYNC_HEADER, lane="a"), run_at=T0)
    [first] = await store.claim_jobs("w", now=T0, limit=10, lease_seconds=30)
    await mongo._jobs.delete_one({"_id": first.key})  # completed; then the crash

    assert await store.claim_jobs("w", now=T0, limit=10, lease_seconds=30) == []
    later = T0 + timedelta(seconds=30)
    [second] = await store.claim_jobs("w", now=later, limit=10, lease_seconds=30)
    assert second.key == "a:2"


def stale_first_check(monkeypatch: pytest.MonkeyPatch, store: MongoStore) -> None:
    """record_inbound's first look for the sid happened before another process stored
    it, and everything since (storing, posting, deleting the post job) happened while
    this call stalled."""
    known = store._known_inbound
    calls = 0

    async def stale(sid: str) -> Any:
        nonlocal calls
        calls += 1
        return None if calls == 1 else await known(sid)

    monkeypatch.setattr(store, "_known_inbound", stale)


async def post_everything(store: Store) -> None:
    for job in await store.claim_jobs("w", now=T0, limit=10, lease_seconds=30):
        assert await store.complete_job(job)


@mongo_engines
async def test_late_duplicate_withdraws_its_job(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = await store.record_inbound(sms("SM1"))
    await post_everything(store)
    stale_first_check(monkeypatch, cast(MongoStore, store))

    late = await store.record_inbound(sms("SM1"))

    assert late.created is False
    assert late.message == first.message
    assert await store.queue_depth() == {}


@mongo_engines
async def test_late_duplicate_that_crashed_is_dropped_at_claim(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = await store.record_inbound(sms("SM1"))
    await post_everything(store)
    stale_first_check(monkeypatch, cast(MongoStore, store))
    crash_before_message_document(monkeypatch, store)
    with pytest.raises(Crash):
        await store.record_inbound(sms("SM1"))
    monkeypatch.undo()
    assert await store.queue_depth() == {JobKind.POST_INBOUND.value: 1}

    assert await store.claim_jobs("w", now=T0, limit=10, lease_seconds=30) == []

    assert await store.queue_depth() == {}
    assert (await store.record_inbound(sms("SM1"))).message == first.message
    await store.enqueue(
        NewJob(key="next", kind=JobKind.SYNC_HEADER, lane=first_lane(first)), run_at=T0
    )
    [job] = await store.claim_jobs("w", now=T0, limit=10, lease_seconds=30)
    assert job.key == "next"  # the lane was given back


@mongo_engines
async def test_a_late_lower_seq_waits_for_the_running_job_of_its_lane(
    new_store: StoreFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Seq allocation and job insert are two writes: process A takes seq n and
    stalls; process B enqueues n+1 into the same lane and starts running it; then A's
    job n lands. It is the lane's oldest now, but must wait for the running job."""
    one, two = cast(MongoStore, await new_store()), cast(MongoStore, await new_store())
    allocated, resume = asyncio.Event(), asyncio.Event()
    allocate = one._next

    async def stalling_next(counter: str, count: int = 1) -> int:
        n = await allocate(counter, count)
        if counter == "jobs":
            allocated.set()
            await resume.wait()
        return n

    monkeypatch.setattr(one, "_next", stalling_next)
    stalled = asyncio.create_task(
        one.enqueue(NewJob(key="a:early", kind=JobKind.SYNC_HEADER, lane="a"), run_at=T0)
    )
    await allocated.wait()
    await two.enqueue(NewJob(key="a:late", kind=JobKind.SYNC_HEADER, lane="a"), run_at=T0)
    [running] = await two.claim_jobs("w2", now=T0, limit=10, lease_seconds=30)
    assert running.key == "a:late"
    resume.set()
    await stalled

    assert await one.claim_jobs("w1", now=T0, limit=10, lease_seconds=30) == []
    assert await two.complete_job(running)
    [after] = await one.claim_jobs("w1", now=T0, limit=10, lease_seconds=30)
    assert after.key == "a:early"


async def reply_in_a_thread(store: Store, ts: str = "200.1") -> OutboundReply:
    record = await store.record_inbound(sms("SM1"))
    await store.set_thread(record.conversation.id, "C1", "100.1", replacing=None)
    return OutboundReply(
        conversation_id=record.conversation.id,
        body="On our way",
        author="U1",
        slack_channel="C1",
        slack_ts=ts,
    )


async def record_reply_and_crash(store: Store, monkeypatch: pytest.MonkeyPatch) -> OutboundReply:
    reply = await reply_in_a_thread(store)
    crash_before_message_document(monkeypatch, store)
    with pytest.raises(Crash):
        await store.record_outbound(reply, send_at=T0)
    monkeypatch.undo()
    assert await store.queue_depth() == {
        JobKind.POST_INBOUND.value: 1,
        JobKind.SEND_SMS.value: 1,
    }
    return reply


@mongo_engines
async def test_claim_restores_a_reply_lost_in_a_crash(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    reply = await record_reply_and_crash(store, monkeypatch)

    jobs = await store.claim_jobs("w", now=T0, limit=10, lease_seconds=30)

    [send] = [j for j in jobs if j.kind is JobKind.SEND_SMS]
    assert send.lane == sms_lane(reply.conversation_id)
    assert send.message_id is not None
    message = await store.get_message(send.message_id)
    assert message is not None
    assert (message.body, message.author, message.status) == (
        "On our way",
        "U1",
        DeliveryStatus.QUEUED,
    )
    assert (message.slack_channel, message.slack_ts) == ("C1", "200.1")
    assert message.sid is None


@mongo_engines
async def test_a_reply_lost_in_a_crash_is_found_by_its_slack_ts(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An edit or delete in Slack may come before the send job is claimed."""
    reply = await record_reply_and_crash(store, monkeypatch)

    message = await store.get_message_by_slack_ts("C1", "200.1")

    assert message is not None
    assert message.body == "On our way"
    assert await store.get_message(message.id) == message
    assert await store.cancel_unsent(message.id) is True
    assert (await store.record_outbound(reply, send_at=T0)).created is False


@mongo_engines
async def test_slack_retry_after_a_crash_finds_the_reply(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    reply = await record_reply_and_crash(store, monkeypatch)

    retry = await store.record_outbound(reply, send_at=T0)

    assert retry.created is False
    assert await store.get_message(retry.message.id) == retry.message
    assert await store.queue_depth() == {
        JobKind.POST_INBOUND.value: 1,
        JobKind.SEND_SMS.value: 1,
    }


@mongo_engines
async def test_late_duplicate_reply_withdraws_its_job(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """record_outbound's first look for the Slack ts happened before another process
    stored the reply, and storing, sending and deleting the send job happened while
    this call stalled."""
    reply = await reply_in_a_thread(store)
    first = await store.record_outbound(reply, send_at=T0)
    await post_everything(store)
    mongo = cast(MongoStore, store)
    find = mongo._find_message
    calls = 0

    async def stale(fields: dict[str, Any]) -> Any:
        nonlocal calls
        calls += 1
        return None if calls == 1 else await find(fields)

    monkeypatch.setattr(mongo, "_find_message", stale)

    late = await store.record_outbound(reply.model_copy(update={"body": "late"}), send_at=T0)

    assert late.created is False
    assert late.message == first.message
    assert await store.queue_depth() == {}


@mongo_engines
async def test_reply_to_an_unknown_conversation_writes_nothing(store: Store) -> None:
    reply = OutboundReply(
        conversation_id=12345, body="x", author="U1", slack_channel="C1", slack_ts="1.0"
    )
    with pytest.raises(KeyError):
        await store.record_outbound(reply, send_at=T0)
    assert await store.queue_depth() == {}
    assert await store.get_message_by_slack_ts("C1", "1.0") is None


async def system_text_conversation(store: Store) -> int:
    record = await store.record_inbound(sms("SM1", body="STOP"))
    await post_everything(store)
    return record.conversation.id


@mongo_engines
async def test_claim_restores_a_system_text_lost_in_a_crash(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    cid = await system_text_conversation(store)
    crash_before_message_document(monkeypatch, store)
    with pytest.raises(Crash):
        await store.record_system_text(
            cid, "Unsubscribed", MessagePurpose.OPT_OUT_CONFIRMATION, key="stop:SM1"
        )
    monkeypatch.undo()
    assert await store.queue_depth() == {JobKind.SEND_SMS.value: 1}

    [job] = await store.claim_jobs("w", now=utcnow(), limit=10, lease_seconds=30)

    assert (job.key, job.lane) == ("send:stop:SM1", sms_lane(cid))
    message = await store.get_message("stop:SM1")
    assert message is not None
    assert (message.body, message.purpose, message.status) == (
        "Unsubscribed",
        MessagePurpose.OPT_OUT_CONFIRMATION,
        DeliveryStatus.QUEUED,
    )


@mongo_engines
async def test_a_retry_after_a_crash_finds_the_system_text(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    cid = await system_text_conversation(store)
    crash_before_message_document(monkeypatch, store)
    with pytest.raises(Crash):
        await store.record_system_text(cid, "Help", MessagePurpose.HELP_REPLY, key="help:SM1")
    monkeypatch.undo()

    retry = await store.record_system_text(cid, "Help", MessagePurpose.HELP_REPLY, key="help:SM1")

    assert retry is None
    message = await store.get_message("help:SM1")  # stored by the retry's look-up
    assert message is not None
    assert message.purpose is MessagePurpose.HELP_REPLY
    assert await store.queue_depth() == {JobKind.SEND_SMS.value: 1}


@mongo_engines
async def test_late_duplicate_system_text_withdraws_its_job(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first look for the key happened before another process stored the text,
    and storing, sending and deleting its send job happened while this call stalled."""
    cid = await system_text_conversation(store)
    first = await store.record_system_text(cid, "Help", MessagePurpose.HELP_REPLY, key="help:SM1")
    assert first is not None
    [job] = await store.claim_jobs("w", now=utcnow(), limit=10, lease_seconds=30)
    assert await store.begin_send(first.id) is not None
    sent = await store.finish_send(first.id, DeliveryStatus.SENT, sid="SMout1")
    assert await store.complete_job(job)
    mongo = cast(MongoStore, store)
    find = mongo._find_message
    calls = 0

    async def stale(fields: dict[str, Any]) -> Any:
        nonlocal calls
        calls += 1
        return None if calls == 1 else await find(fields)

    monkeypatch.setattr(mongo, "_find_message", stale)

    late = await store.record_system_text(cid, "Help", MessagePurpose.HELP_REPLY, key="help:SM1")

    assert late is None
    assert await store.get_message(first.id) == sent
    assert await store.queue_depth() == {}


@mongo_engines
async def test_system_text_to_an_unknown_conversation_writes_nothing(store: Store) -> None:
    with pytest.raises(KeyError):
        await store.record_system_text(12345, "x", MessagePurpose.HELP_REPLY, key="help:x")
    assert await store.queue_depth() == {}
    assert await store.get_message("help:x") is None


@mongo_engines
async def test_consent_append_order_is_the_sequence_not_the_insert_order(
    new_store: StoreFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Taking a seq and inserting are two writes: process A takes its seq and stalls,
    process B appends after it. A's event was appended first: on equal times, B's
    decides, and the log lists A's first."""
    one, two = cast(MongoStore, await new_store()), cast(MongoStore, await new_store())
    allocated, resume = asyncio.Event(), asyncio.Event()
    allocate = one._next

    async def stalling_next(counter: str, count: int = 1) -> int:
        n = await allocate(counter, count)
        if counter == "consent_events":
            allocated.set()
            await resume.wait()
        return n

    monkeypatch.setattr(one, "_next", stalling_next)
    stop = ConsentEvent(
        business_number=BUSINESS,
        subscriber=SUBSCRIBER,
        kind=ConsentKind.CONVERSATIONAL,
        granted=False,
        source=ConsentSource.KEYWORD,
        at=T0,
        ref="SM1",
    )
    start = stop.model_copy(update={"granted": True, "ref": "SM2"})
    stalled = asyncio.create_task(one.record_consent([stop]))
    await allocated.wait()
    assert await two.record_consent([start]) == 1
    resume.set()
    assert await stalled == 1

    assert await two.consent_log() == [stop, start]
    assert await two.consent_state(BUSINESS, SUBSCRIBER) == ConsentState(conversational=True)


@mongo_engines
async def test_the_ledger_indexes_dedupe_only_string_refs(store: Store) -> None:
    ledger = cast(MongoStore, store)._consent_events
    base = {"business_number": BUSINESS, "subscriber": SUBSCRIBER, "kind": "conversational"}
    await ledger.insert_one({**base, "ref": "SM1"})
    with pytest.raises(DuplicateKeyError):
        await ledger.insert_one({**base, "ref": "SM1"})
    await ledger.insert_one({**base, "kind": "marketing", "ref": "SM1"})
    for _ in range(2):
        await ledger.insert_one({**base, "ref": None})


def test_from_uri_takes_the_database_from_the_path() -> None:
    store = MongoStore.from_uri("mongodb://127.0.0.1:1/tenant_a")
    assert store._name == "tenant_a"
    assert MongoStore.from_uri("mongodb://127.0.0.1:1/")._name == "sms_bridge"
    assert MongoStore.from_uri("mongodb://127.0.0.1:1")._name == "sms_bridge"


async def test_unreachable_server_is_store_unavailable() -> None:
    store = MongoStore.from_uri("mongodb://127.0.0.1:1/x", serverSelectionTimeoutMS=100)
    try:
        with pytest.raises(StoreUnavailable, match="MONGODB_URI"):
            await store.open()
        assert await store.ping() is False
    finally:
        await store.close()


class CountingCollection:
    """A collection that counts the calls made to the server through it."""

    def __init__(self, collection: Any, calls: list[str]) -> None:
        self._collection = collection
        self._calls = calls

    def __getattr__(self, name: str) -> Any:
        found = getattr(self._collection, name)
        if callable(found) and not name.startswith("_"):

            def counted(*args: Any, **kwargs: Any) -> Any:
                self._calls.append(name)
                return found(*args, **kwargs)

            return counted
        return found


@mongo_engines
async def test_a_claim_behind_paced_lane_heads_asks_the_server_a_handful_of_times(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a burst, the heads of a hundred conversations' lanes wait for Slack's pace
    with jobs queued behind them; the worker claims after every stored batch, so a
    claim must not look at each waiting lane (two round trips each) every time."""
    mongo = cast(MongoStore, store)
    later = T0 + timedelta(minutes=5)
    for lane in range(100):
        await store.enqueue(
            NewJob(key=f"h{lane}", kind=JobKind.POST_INBOUND, lane=f"c{lane}"), run_at=later
        )
    for n in range(3):
        for lane in range(100):
            behind = NewJob(key=f"j{lane}:{n}", kind=JobKind.POST_INBOUND, lane=f"c{lane}")
            await store.enqueue(behind, run_at=T0)
    assert await store.claim_jobs("w", now=T0, limit=8, lease_seconds=30) == []

    calls: list[str] = []
    jobs = mongo._coll("jobs")
    monkeypatch.setattr(
        mongo,
        "_coll",
        lambda name: CountingCollection(jobs, calls) if name == "jobs" else jobs.database[name],
    )
    assert await store.claim_jobs("w", now=T0, limit=8, lease_seconds=30) == []
    assert len(calls) <= 4, calls
    # And the lanes still run, in order, as their heads come due.
    [head] = await store.claim_jobs("w", now=later, limit=1, lease_seconds=30)
    assert head.key == "h0"
    assert await store.complete_job(head)
    claimed = await store.claim_jobs("w", now=later, limit=200, lease_seconds=30)
    assert sorted(job.key for job in claimed) == sorted({"j0:0", *(f"h{n}" for n in range(1, 100))})
