"""Answers to campaigns: one row per subscriber and campaign (the counted answer), and
the MessageSids already read."""

from __future__ import annotations

from datetime import UTC, datetime

import aiosqlite

from bridge.campaigns.models import Answer, Tally
from bridge.store.sqlite import rows
from bridge.store.sqlite.connection import SQLiteConnection

# Which answer replaces the counted one: a later one ("last"), or an earlier ("first").
_REPLACES = {
    "last": "excluded.at >= campaign_answers.at",
    "first": "excluded.at < campaign_answers.at",
}


def _answer(row: aiosqlite.Row) -> Answer:
    return Answer(
        campaign_id=row["campaign_id"],
        subscriber=row["subscriber"],
        choice=row["choice"],
        text=row["text"],
        sid=row["sid"],
        at=datetime.fromtimestamp(row["at"], UTC),
    )


class AnswerRows(SQLiteConnection):
    """AnswerStore on SQLite."""

    async def record_answer(self, answer: Answer, *, keep: str = "last") -> bool:
        async with self._tx() as db:
            seen = await db.execute(
                "INSERT INTO answer_sids (sid) VALUES (?) ON CONFLICT (sid) DO NOTHING",
                (answer.sid,),
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

    async def tally(self, campaign_id: str) -> Tally:
        async with self._lock:
            found = await rows.fetchall(
                self.db,
                "SELECT choice, count(*) AS n FROM campaign_answers WHERE campaign_id = ?"
                " GROUP BY choice",
                (campaign_id,),
            )
        counts = {row["choice"]: int(row["n"]) for row in found}
        return Tally(counts=counts, total=sum(counts.values()))

    async def campaign_answers(self, campaign_id: str) -> list[Answer]:
        async with self._lock:
            found = await rows.fetchall(
                self.db,
                "SELECT * FROM campaign_answers WHERE campaign_id = ? ORDER BY at, subscriber",
                (campaign_id,),
            )
        return [_answer(row) for row in found]
