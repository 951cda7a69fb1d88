"""Posts into Slack, recorded before they are made (in group commits)."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from bridge.models import (
    PostAttempt,
    SlackPost,
)
from bridge.store.batching import GroupCommit, Take
from bridge.store.sqlite import rows
from bridge.store.sqlite.connection import SQLiteConnection

# Posts are looked up only while their job may run again; older records are pruned.
POST_RETENTION_SECONDS = 7 * 24 * 3600
POST_PRUNE_EVERY_SECONDS = 3600


class PostRows(SQLiteConnection):
    """PostStore on SQLite."""

    _post_attempts: GroupCommit[tuple[str, str, str | None, float, str], PostAttempt]
    _pruned_at: float

    async def begin_post(
        self, key: str, channel: str, thread_ts: str | None, *, at: datetime, detail: str = ""
    ) -> PostAttempt:
        if rows.ts(at) - self._pruned_at >= POST_PRUNE_EVERY_SECONDS:
            self._pruned_at = rows.ts(at)
            await self._write(
                "DELETE FROM slack_posts WHERE started_at < ?",
                (rows.ts(at) - POST_RETENTION_SECONDS,),
            )
        # Every post begins here: concurrent posts share one transaction (one fsync).
        return await self._post_attempts.submit((key, channel, thread_ts, rows.ts(at), detail))

    async def _begin_post_batch(
        self, take: Take[tuple[str, str, str | None, float, str]]
    ) -> list[PostAttempt]:
        def begin(db: sqlite3.Connection) -> list[PostAttempt]:
            attempts = []
            for row in take():
                # A known key is returned as it stands.
                new = rows.one(
                    db,
                    "INSERT INTO slack_posts (key, channel, thread_ts, started_at, detail)"
                    " VALUES (?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING RETURNING *",
                    row,
                )
                known = new or rows.one(db, "SELECT * FROM slack_posts WHERE key = ?", (row[0],))
                assert known is not None  # inserted, or there, in this transaction
                attempts.append(PostAttempt(post=rows.post(known), resumed=new is None))
            return attempts

        return await self._transaction(begin)  # one trip to the database thread

    async def land_post(self, key: str, ts: str) -> bool:
        changed = await self._write(
            "UPDATE slack_posts SET ts = ? WHERE key = ? AND ts IS NULL", (ts, key)
        )
        return changed == 1

    async def drop_post(self, key: str, *, started_at: datetime | None = None) -> None:
        at = None if started_at is None else rows.ts(started_at)
        await self._write(
            "DELETE FROM slack_posts"
            " WHERE key = ?1 AND ts IS NULL AND (?2 IS NULL OR started_at = ?2)",
            (key, at),
        )

    async def unsettled_posts(self, channel: str) -> list[SlackPost]:
        found = await self._all(
            "SELECT * FROM slack_posts WHERE channel = ? AND ts IS NULL ORDER BY started_at",
            (channel,),
        )
        return [rows.post(row) for row in found]

    async def landed_post(self, channel: str, ts: str) -> SlackPost | None:
        # No index: asked only for a reply in a thread the store does not know (rare),
        # of a table that keeps a week of posts.
        found = await self._one(
            "SELECT * FROM slack_posts WHERE channel = ? AND ts = ? LIMIT 1",
            (channel, ts),
        )
        return rows.post(found) if found else None
