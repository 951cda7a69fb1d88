"""Answers to campaigns: one row per subscriber and campaign (the counted answer), and
the MessageSids already read."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import aiosqlite

from bridge.campaigns.models import QUOTE_WINDOW, Answer, Tally
from bridge.models import NewJob, utcnow
from bridge.store.batching import GroupCommit, Take
from bridge.store.sqlite import rows
from bridge.store.sqlite.connection import SQLiteConnection
from bridge.store.sqlite.jobs import enqueue_in

# Which answer replaces the counted one: a later one ("last"), or an earlier ("first").
_REPLACES = {
    "last": "excluded.at >= campaign_answers.at",
    "first": "excluded.at < campaign_answers.at",
}


def answer_of(row: aiosqlite.Row) -> Answer:
    return Answer(
        campaign_id=row["campaign_id"],
        subscriber=row["subscriber"],
        choice=row["choice"],
        text=row["text"],
        sid=row["sid"],
        at=datetime.fromtimestamp(row["at"], UTC),
    )


async def _record(db: aiosqlite.Connection, answer: Answer, keep: str) -> bool:
    seen = await db.execute(
        "INSERT INTO answer_sids (sid) VALUES (?) ON CONFLICT (sid) DO NOTHING", (answer.sid,)
    )
    if seen.rowcount == 0:
        return False
    counted = await db.execute(
        "INSERT INTO campaign_answers (campaign_id, subscriber, choice, text, sid, at)"  # noqa: S608
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (campaign_id, subscriber) DO UPDATE"
        " SET choice = excluded.choice, text = excluded.text, sid = excluded.sid,"
        f" at = excluded.at WHERE {_REPLACES[keep]}",
        (
            answer.campaign_id,
            answer.subscriber,
            answer.choice,
            answer.text,
            answer.sid,
            rows.ts(answer.at),
        ),
    )
    return counted.rowcount > 0


async def campaign_listening(db: aiosqlite.Connection, now: datetime) -> bool:
    """Whether any campaign may be answered or quoted now (else `latest_campaign_text`
    skips its lookup): one still to send, one taking answers, one within the quote
    window."""
    row = await rows.fetchone(
        db,
        "SELECT 1 FROM campaigns WHERE state IN ('scheduled', 'sending', 'paused')"
        " OR (closes_at IS NOT NULL AND closed = 0 AND closes_at > ?)"
        " OR (closes_at IS NULL AND COALESCE(finished_at, started_at, created_at) > ?) LIMIT 1",
        (rows.ts(now), rows.ts(now - QUOTE_WINDOW)),
    )
    return row is not None


class AnswerRows(SQLiteConnection):
    """AnswerStore on SQLite."""

    _answers: GroupCommit[tuple[Answer, str, Sequence[NewJob]], bool]

    async def record_answer(
        self, answer: Answer, *, keep: str = "last", jobs: Sequence[NewJob] = ()
    ) -> bool:
        return await self._answers.submit((answer, keep, jobs))

    async def _record_answer_batch(
        self, take: Take[tuple[Answer, str, Sequence[NewJob]]]
    ) -> list[bool]:
        """One transaction (one fsync) for the answers that arrived together: a poll's
        answers come in bursts."""
        now = rows.ts(utcnow())
        async with self._tx() as db:
            batch = take()
            changed = [await _record(db, answer, keep) for answer, keep, _ in batch]
            due = {job.key: job for _, _, jobs in batch for job in jobs}  # once a burst
            for job in due.values():
                await enqueue_in(db, job, run_at=now)
        return changed

    async def tally(self, campaign_id: str) -> Tally:
        found = await self._all(
            "SELECT choice, count(*) AS n FROM campaign_answers WHERE campaign_id = ?"
            " GROUP BY choice",
            (campaign_id,),
        )
        counts = {row["choice"]: int(row["n"]) for row in found}
        return Tally(counts=counts, total=sum(counts.values()))

    async def campaign_answers(self, campaign_id: str) -> list[Answer]:
        found = await self._all(
            "SELECT * FROM campaign_answers WHERE campaign_id = ? ORDER BY at, subscriber",
            (campaign_id,),
        )
        return [answer_of(row) for row in found]
