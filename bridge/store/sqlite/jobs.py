"""The outbox: jobs in lanes, leased once, in order per lane."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Sequence
from datetime import datetime

import aiosqlite

from bridge.models import (
    Job,
    NewJob,
)
from bridge.store.sqlite import rows
from bridge.store.sqlite.connection import SQLiteConnection, on_thread


async def enqueue_in(db: aiosqlite.Connection, job: NewJob, *, run_at: float) -> None:
    """Enqueue inside the caller's transaction (see `JobStore.enqueue`)."""
    await on_thread(db, enqueue_now, job, run_at=run_at)


def enqueue_now(db: sqlite3.Connection, job: NewJob, *, run_at: float) -> None:
    """`enqueue_in`, on the database thread."""
    # A running job is left alone and marked to run once more when this run ends,
    # so its lane still runs one job at a time.
    cur = db.execute("UPDATE jobs SET rerun = 1 WHERE key = ? AND state = 'running'", (job.key,))
    if cur.rowcount:
        return
    db.execute(
        """
        INSERT INTO jobs (key, kind, lane, seq, state, run_at, conversation_id, message_id,
                          note, user, created_at)
        VALUES (?, ?, ?, (SELECT coalesce(max(seq), 0) + 1 FROM jobs), 'pending', ?, ?, ?,
                ?, ?, ?)
        ON CONFLICT (key) DO UPDATE
        SET state = 'pending', seq = excluded.seq, run_at = excluded.run_at,
            attempts = 0, last_error = NULL, note = excluded.note, user = excluded.user
        WHERE jobs.state = 'dead'
        """,
        (
            job.key,
            job.kind.value,
            job.lane,
            run_at,
            job.conversation_id,
            job.message_id,
            job.note,
            job.user,
            run_at,
        ),
    )


async def insert_jobs(db: aiosqlite.Connection, jobs: Sequence[tuple[NewJob, float]]) -> None:
    """New jobs (fresh keys) at the tail of their lanes, inside the caller's transaction."""
    if jobs:
        await on_thread(db, insert_jobs_now, jobs)


def insert_jobs_now(db: sqlite3.Connection, jobs: Sequence[tuple[NewJob, float]]) -> None:
    """`insert_jobs`, on the database thread: one statement."""
    if not jobs:
        return
    row = rows.one(db, "SELECT coalesce(max(seq), 0) FROM jobs")
    base = int(row[0]) if row else 0
    db.executemany(
        "INSERT INTO jobs (key, kind, lane, seq, state, run_at, conversation_id,"
        " message_id, note, user, created_at)"
        " VALUES (?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?)",
        [
            (
                job.key,
                job.kind.value,
                job.lane,
                base + n,
                run_at,
                job.conversation_id,
                job.message_id,
                job.note,
                job.user,
                run_at,
            )
            for n, (job, run_at) in enumerate(jobs, start=1)
        ],
    )


class JobRows(SQLiteConnection):
    """JobStore on SQLite."""

    async def enqueue(self, job: NewJob, *, run_at: datetime) -> None:
        at = rows.ts(run_at)
        await self._transaction(lambda db: enqueue_now(db, job, run_at=at))

    async def claim_jobs(
        self, owner: str, *, now: datetime, limit: int, lease_seconds: float
    ) -> list[Job]:
        at = rows.ts(now)
        token = f"{owner}:{uuid.uuid4().hex}"

        def claim(db: sqlite3.Connection) -> list[sqlite3.Row]:
            # A running job is always the head of its lane, so an expired one is
            # claimable as it is. Pending heads are walked in enqueue order (a partial
            # index of heads only: the jobs queued behind them cost nothing here).
            found = db.execute(
                "SELECT * FROM jobs INDEXED BY jobs_leases"
                " WHERE state = 'running' AND lease_until <= ? ORDER BY seq LIMIT ?",
                (at, limit),
            ).fetchall()
            found += db.execute(
                """
                SELECT * FROM jobs INDEXED BY jobs_heads
                WHERE head = 1 AND state = 'pending' AND run_at <= ? ORDER BY seq LIMIT ?
                """,
                (at, limit - len(found)),
            ).fetchall()
            db.executemany(
                "UPDATE jobs SET state = 'running', lease_token = ?, lease_until = ?,"
                " attempts = attempts + 1 WHERE key = ?",
                [(token, at + lease_seconds, row["key"]) for row in found],
            )
            return found

        return [rows.job(row, token) for row in await self._transaction(claim)]

    async def extend_lease(self, job: Job, *, until: datetime) -> bool:
        changed = await self._write(
            "UPDATE jobs SET lease_until = ? WHERE key = ? AND lease_token = ?",
            (rows.ts(until), job.key, job.lease_token),
        )
        return changed == 1

    async def complete_job(self, job: Job) -> bool:
        def complete(db: sqlite3.Connection) -> bool:
            cur = db.execute(
                "DELETE FROM jobs WHERE key = ? AND lease_token = ? AND rerun = 0",
                (job.key, job.lease_token),
            )
            if cur.rowcount == 1:
                return True
            # Enqueued again while it ran: due again now, at the tail of its lane.
            db.execute(
                "UPDATE jobs SET state = 'pending', rerun = 0, attempts = 0,"
                " seq = (SELECT max(seq) + 1 FROM jobs), lease_token = NULL, lease_until = NULL"
                " WHERE key = ? AND lease_token = ?",
                (job.key, job.lease_token),
            )
            return False

        return await self._transaction(complete)

    async def retry_job(
        self, job: Job, *, run_at: datetime, error: str, counted: bool = True
    ) -> bool:
        return (
            await self._write(
                "UPDATE jobs SET state = 'pending', run_at = ?, last_error = ?, rerun = 0,"
                " attempts = attempts - ?, lease_token = NULL, lease_until = NULL"
                " WHERE key = ? AND lease_token = ?",
                (rows.ts(run_at), error, 0 if counted else 1, job.key, job.lease_token),
            )
            == 1
        )

    async def kill_job(self, job: Job, *, error: str) -> bool:
        return (
            await self._write(
                "UPDATE jobs SET state = 'dead', last_error = ?, rerun = 0, lease_token = NULL,"
                " lease_until = NULL WHERE key = ? AND lease_token = ?",
                (error, job.key, job.lease_token),
            )
            == 1
        )

    async def queue_depth(self) -> dict[str, int]:
        found = await self._all(
            "SELECT CASE WHEN state = 'dead' THEN 'dead' ELSE kind END, count(*)"
            " FROM jobs GROUP BY 1",
        )
        return {name: count for name, count in found}
