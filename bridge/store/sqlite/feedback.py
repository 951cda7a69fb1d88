"""Ratings across rating requests (the feedback report), a subscriber's counted answer,
and each subscriber's last review request."""

from __future__ import annotations

from datetime import datetime, timedelta

from bridge.campaigns.models import Answer
from bridge.store.sqlite import rows
from bridge.store.sqlite.answers import answer_of
from bridge.store.sqlite.connection import SQLiteConnection


class FeedbackRows(SQLiteConnection):
    """FeedbackStore on SQLite."""

    async def ratings_since(self, since: datetime) -> list[Answer]:
        found = await self._all(
            # Few campaigns: the spec is read once per campaign row the join meets.
            "SELECT a.* FROM campaign_answers a JOIN campaigns c ON c.id = a.campaign_id"
            " WHERE a.at >= ? AND json_extract(c.spec, '$.feedback') IS NOT NULL"
            " ORDER BY a.at, a.subscriber",
            (rows.ts(since),),
        )
        return [answer_of(row) for row in found]

    async def counted_answer(self, campaign_id: str, subscriber: str) -> Answer | None:
        row = await self._one(
            "SELECT * FROM campaign_answers WHERE campaign_id = ? AND subscriber = ?",
            (campaign_id, subscriber),
        )
        return None if row is None else answer_of(row)

    async def claim_review(
        self, business_number: str, subscriber: str, *, key: str, at: datetime, every: timedelta
    ) -> bool:
        changed = await self._write(
            "INSERT INTO review_requests (business_number, subscriber, key, at)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (business_number, subscriber) DO UPDATE"
            " SET key = excluded.key, at = excluded.at"
            " WHERE review_requests.key = excluded.key OR review_requests.at <= ?",
            (business_number, subscriber, key, rows.ts(at), rows.ts(at - every)),
        )
        return changed == 1
