"""SQLite-only: the claim queries use their partial indexes, so a claim costs the same
with a backlog of thousands of jobs as with none; older databases are migrated."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiosqlite
import pytest

from bridge.models import DraftState, InboundSms, JobKind, MessageDraft, NewJob, utcnow
from bridge.store.sqlite import MIGRATIONS, SQLiteStore

BUSINESS, ANA = "+14155550100", "+14155550123"


async def test_claims_walk_the_partial_indexes(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "plan.db")
    await store.open()
    try:
        plans = []
        for sql in (
            "SELECT * FROM jobs INDEXED BY jobs_leases WHERE state = 'running'"
            " AND lease_until <= 0 ORDER BY seq LIMIT 8",
            "SELECT * FROM jobs INDEXED BY jobs_heads WHERE head = 1 AND state = 'pending'"
            " AND run_at <= 0 ORDER BY seq LIMIT 8",
        ):
            async with store.db.execute(f"EXPLAIN QUERY PLAN {sql}") as cur:
                plans.append(" ".join(str(row[3]) for row in await cur.fetchall()))
    finally:
        await store.close()
    assert "jobs_leases" in plans[0]
    assert "jobs_heads" in plans[1]
    assert "TEMP B-TREE" not in plans[1]  # walked in order, no sort of the backlog


async def _claim_steps(store: SQLiteStore) -> int:
    """SQLite's virtual-machine steps of one claim that finds nothing due: a count of
    the work done, the same on a busy machine as on a quiet one."""
    steps = 0

    def count() -> int:
        nonlocal steps
        steps += 1
        return 0

    await store.db.set_progress_handler(count, 100)
    try:
        assert await store.claim_jobs("w", now=utcnow(), limit=8, lease_seconds=30) == []
    finally:
        await store.db.set_progress_handler(None, 100)
    return steps


async def test_a_claim_costs_the_same_behind_a_backlog_of_thousands(tmp_path: Path) -> None:
    """A burst queues thousands of posts behind lane heads that wait for Slack's pace;
    the worker claims after every stored batch, so a claim that walked the backlog held
    SQLite's one thread for milliseconds each time, ahead of the webhooks' commits."""
    store = SQLiteStore(tmp_path / "backlog.db")
    await store.open()
    try:
        later = utcnow() + timedelta(minutes=5)

        async def lanes(count: int, behind_each: int, start: int) -> None:
            for lane in range(start, start + count):
                head = NewJob(key=f"h{lane}", kind=JobKind.POST_INBOUND, lane=f"c{lane}")
                await store.enqueue(head, run_at=later)  # paced: due in five minutes
            for n in range(behind_each):
                for lane in range(start, start + count):
                    job = NewJob(key=f"j{lane}:{n}", kind=JobKind.POST_INBOUND, lane=f"c{lane}")
                    await store.enqueue(job, run_at=utcnow())

        await store.db.execute("PRAGMA synchronous = OFF")  # the test's own speed only
        await lanes(20, 0, 0)
        idle = await _claim_steps(store)
        await lanes(20, 150, 1000)  # 3,000 jobs behind 20 more waiting heads
        busy = await _claim_steps(store)
    finally:
        await store.close()
    assert busy < 3 * max(idle, 1), (idle, busy)


async def test_a_database_of_an_earlier_version_is_migrated_and_keeps_its_data(
    tmp_path: Path,
) -> None:
    path = tmp_path / "bridge.db"
    db = sqlite3.connect(path, isolation_level=None)
    db.executescript(f"BEGIN; {MIGRATIONS[0]}; PRAGMA user_version = 1; COMMIT;")
    db.execute(  # a text stored by the first release
        "INSERT INTO conversations (id, business_number, subscriber, created_at,"
        " last_activity_at) VALUES (1, '+14155550100', '+14155550123', 0, 0)"
    )
    db.execute(
        "INSERT INTO messages (id, conversation_id, direction, body, created_at)"
        " VALUES ('m1', 1, 'inbound', 'hello', 0)"
    )
    db.execute(  # a reply whose send attempt was cut short by the upgrade
        "INSERT INTO messages (id, conversation_id, direction, body, created_at, status)"
        " VALUES ('m2', 1, 'outbound', 'ok', 60, 'sending')"
    )
    db.close()

    store = SQLiteStore(path)
    await store.open()
    try:
        message, _reply = await store.recent_messages(1, limit=5)
        assert (message.body, message.draft, message.intent) == ("hello", None, None)
        draft = MessageDraft(
            reply="Hi!", confidence=1, escalate=False, engine="offline", state=DraftState.PROPOSED
        )
        saved = await store.save_draft("m1", draft, intent="other", urgency="low")
        assert saved is not None
        assert saved.draft == draft
        assert await store.add_usage("ai_tokens:2026-11-27", 5) == 5
        attempt = await store.begin_send("m2")
        assert attempt is not None
        assert attempt.resumed
        assert attempt.began_at == attempt.message.created_at  # the bound it had then
        async with store.db.execute("PRAGMA user_version") as cur:
            row = await cur.fetchone()
        assert row is not None
        assert row[0] == len(MIGRATIONS)
    finally:
        await store.close()


async def test_jobs_queued_before_the_upgrade_still_run_in_lane_order(tmp_path: Path) -> None:
    path = tmp_path / "queued.db"
    db = sqlite3.connect(path, isolation_level=None)
    # The version before lane heads were marked.
    before = next(n for n, script in enumerate(MIGRATIONS) if "jobs_head_joins" in script)
    db.executescript(
        "BEGIN; " + "; ".join(MIGRATIONS[:before]) + f"; PRAGMA user_version = {before}; COMMIT;"
    )
    for seq, (key, lane, state) in enumerate(
        [("a1", "a", "running"), ("b1", "b", "pending"), ("a2", "a", "pending")], start=1
    ):
        db.execute(
            "INSERT INTO jobs (key, kind, lane, seq, state, run_at, lease_until, created_at)"
            " VALUES (?, 'post_inbound', ?, ?, ?, 0, 0, 0)",
            (key, lane, seq, state),
        )
    db.close()

    store = SQLiteStore(path)
    await store.open()
    try:
        claimed = await store.claim_jobs("w", now=utcnow(), limit=8, lease_seconds=30)
        assert [job.key for job in claimed] == ["a1", "b1"]  # a2 waits for a1
        assert await store.complete_job(claimed[0])
        again = await store.claim_jobs("w", now=utcnow(), limit=8, lease_seconds=30)
        assert [job.key for job in again] == ["a2"]
    finally:
        await store.close()


async def test_processes_starting_together_on_a_new_file_all_open_it(tmp_path: Path) -> None:
    """Several `serve` processes on one SQLite file start at once: each finds the file
    new, and only one may create the tables; the others wait and find them made."""
    path = tmp_path / "shared.db"
    stores = [SQLiteStore(path) for _ in range(3)]
    try:
        opened = await asyncio.gather(*(store.open() for store in stores), return_exceptions=True)
        assert [o for o in opened if isinstance(o, BaseException)] == []
        for n, store in enumerate(stores):
            job = NewJob(key=f"k{n}", kind=JobKind.POST_INBOUND, lane=f"lane{n}")
            await store.enqueue(job, run_at=utcnow())
        claimed = await stores[0].claim_jobs("w", now=utcnow(), limit=8, lease_seconds=30)
        assert sorted(job.key for job in claimed) == ["k0", "k1", "k2"]
    finally:
        for store in stores:
            await store.close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    db.close()


class _Trips:
    """Counts the trips to aiosqlite's thread. Each costs the event loop about 0.1 ms of
    CPU (a queue, a thread switch, a wake-up of the loop): the busiest effects' statements
    travel together."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        original = aiosqlite.Connection._execute

        async def counted(db: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
            self.count += 1
            return await original(db, fn, *args, **kwargs)

        monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)

    def take(self) -> int:
        count, self.count = self.count, 0
        return count


async def test_the_outbox_takes_one_trip_to_sqlites_thread_per_job_claim_and_completion(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The outbox claims after every stored batch of webhooks and every finished job."""
    store = SQLiteStore(tmp_path / "trips.db")
    await store.open()
    try:
        trips = _Trips(monkeypatch)
        await store.enqueue(NewJob(key="a", kind=JobKind.POST_INBOUND, lane="c1"), run_at=utcnow())
        enqueued = trips.take()
        [job] = await store.claim_jobs("w", now=utcnow(), limit=8, lease_seconds=30)
        claimed = trips.take()
        assert await store.claim_jobs("w", now=utcnow(), limit=7, lease_seconds=30) == []
        idle = trips.take()
        assert await store.complete_job(job)
        completed = trips.take()
    finally:
        monkeypatch.undo()
        await store.close()
    assert (enqueued, claimed, idle, completed) == (1, 1, 1, 1)


async def test_a_texts_group_commit_is_one_trip_to_sqlites_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every webhook waits for it, with its conversation, its post job and its timer."""
    store = SQLiteStore(tmp_path / "trips.db")
    await store.open()
    store.first_response_minutes = 5
    try:
        trips = _Trips(monkeypatch)
        texts = [
            InboundSms(sid=f"SM{n:032x}", business_number=BUSINESS, subscriber=ANA, body="hi")
            for n in range(2)
        ]
        first = await store.record_inbound(texts[0])
        opened = trips.take()
        again, later = await asyncio.gather(*(store.record_inbound(t) for t in texts))
        both = trips.take()
    finally:
        monkeypatch.undo()
        await store.close()
    assert (first.created, again.created, later.created) == (True, False, True)
    assert again.message.id == first.message.id
    assert later.conversation.id == first.conversation.id
    assert (opened, both) == (1, 1)


async def test_a_texts_post_and_draft_are_one_trip_each_to_sqlites_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every text posted into Slack: its draft stored, its post begun, then landed."""
    store = SQLiteStore(tmp_path / "trips.db")
    await store.open()
    try:
        text = InboundSms(sid="SM" + "a" * 32, business_number=BUSINESS, subscriber=ANA, body="hi")
        message = (await store.record_inbound(text)).message
        await store.begin_post("other", "C1", None, at=utcnow())  # and the hourly pruning
        trips = _Trips(monkeypatch)
        draft = MessageDraft(
            reply="Hello!",
            confidence=0.9,
            escalate=False,
            engine="offline",
            state=DraftState.PROPOSED,
        )
        saved = await store.save_draft(message.id, draft, intent="other", urgency="normal")
        drafted = trips.take()
        key = f"text:{message.id}"
        attempt = await store.begin_post(key, "C1", "1.0", at=utcnow(), detail="with_draft")
        begun = trips.take()
        await store.set_message_slack_ts(message.id, "C1", "2.0", with_draft=True, landing=key)
        landed = trips.take()
        again = await store.begin_post(key, "C1", "1.0", at=utcnow())
        shown = await store.get_message(message.id)
    finally:
        monkeypatch.undo()
        await store.close()
    assert saved is not None
    assert saved.draft == draft
    assert (attempt.resumed, again.resumed, again.post.ts) == (False, True, "2.0")
    assert shown is not None
    assert shown.draft is not None
    assert shown.draft.slack_ts == "2.0"
    assert (drafted, begun, landed) == (1, 1, 1)


async def test_a_texts_post_reads_what_it_needs_in_one_trip_to_sqlites_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The post job of every text reads the text, its conversation and the subscriber's
    contact (the name it is posted under) before it posts: together, in one trip."""
    store = SQLiteStore(tmp_path / "trips.db")
    await store.open()
    try:
        text = InboundSms(sid="SM" + "a" * 32, business_number=BUSINESS, subscriber=ANA, body="hi")
        message = (await store.record_inbound(text)).message
        trips = _Trips(monkeypatch)
        read = await store.text_to_post(message.id, message.conversation_id)
        reads = trips.take()
    finally:
        monkeypatch.undo()
        await store.close()
    assert read.message == message
    assert read.conversation is not None
    assert read.conversation.subscriber == ANA
    assert reads == 1


def _shape(sql: str) -> str:
    """A traced statement (SQLite gives it with its values) with its values taken out."""
    sql = re.sub(r"'(?:[^']|'')*'", "?", sql)
    return re.sub(r"(?<![\w$.\[])-?\d+(?:\.\d+)?(?:e[+-]?\d+)?(?![\w.])", "?", sql)


async def test_a_group_commit_runs_the_same_statements_whatever_its_size(
    tmp_path: Path,
) -> None:
    """Batches come in every size under load. A statement whose text grew with the
    batch (`IN (?, ?, …)`, `VALUES (…), (…)`) was prepared again for every size, and
    sqlite3's cache of 128 statements per connection filled with near-copies of up to
    ~185 KiB each: resident memory that grew for as long as new sizes came."""
    store = SQLiteStore(tmp_path / "shapes.db")
    await store.open()
    traced: list[str] = []
    try:
        old = InboundSms(sid="SM" + "0" * 32, business_number=BUSINESS, subscriber=ANA, body="a")
        await store.record_inbound(old)  # its retries below take the provider-retry path

        async def batch(size: int) -> set[str]:
            texts = [
                InboundSms(
                    sid=f"SM{size:016x}{n:016x}",
                    business_number=BUSINESS,
                    subscriber=f"+1415555{size:02d}{n:02d}",
                    body="hi",
                )
                for n in range(size)
            ]
            traced.clear()
            records = await asyncio.gather(*(store.record_inbound(t) for t in [old, *texts]))
            assert [r.created for r in records] == [False] + [True] * size
            return {_shape(sql) for sql in traced}

        await store.db.set_trace_callback(traced.append)
        small, large = await batch(1), await batch(9)
    finally:
        await store.db.set_trace_callback(None)
        await store.close()
    assert large == small
