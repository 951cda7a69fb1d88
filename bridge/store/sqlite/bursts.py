"""Texts of a burst: those waiting behind a post job in its lane, landed together in
the one Slack message that carries them."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime

from bridge.models import Job, JobKind, Message, Rider, TextToPost
from bridge.store.sqlite import rows
from bridge.store.sqlite.connection import SQLiteConnection


class BurstRows(SQLiteConnection):
    """BurstStore on SQLite."""

    async def waiting_behind(self, job: Job, *, now: datetime, limit: int) -> list[Rider]:
        found = await self._all(
            "SELECT j.key AS job_key, j.kind AS job_kind, j.run_at AS job_run_at, m.*"
            " FROM jobs j INDEXED BY jobs_lane LEFT JOIN messages m ON m.id = j.message_id"
            " WHERE j.lane = ? AND j.state IN ('pending', 'running')"
            " AND j.seq > (SELECT seq FROM jobs WHERE key = ?)"
            " ORDER BY j.seq LIMIT ?",
            (job.lane, job.key, limit),
        )
        riders: list[Rider] = []
        at = rows.ts(now)
        for row in found:
            if row["job_kind"] != JobKind.POST_INBOUND.value or row["job_run_at"] > at:
                break
            if row["id"] is None:
                break  # its message is gone: its own run gives it up
            riders.append(Rider(key=row["job_key"], message=rows.message(row)))
        return riders

    async def land_burst(
        self,
        message_ids: Sequence[str],
        channel: str,
        ts: str,
        *,
        draft_of: str | None,
        landing: str,
        riders: Sequence[str],
    ) -> None:
        async with self._tx() as db:
            await db.execute(
                f"UPDATE messages SET slack_channel = ?, slack_ts = ? WHERE id IN {rows.ONE_OF}",  # noqa: S608
                (channel, ts, rows.listed(message_ids)),
            )
            if draft_of is not None:
                await db.execute(
                    "UPDATE messages SET draft = json_set(draft, '$.slack_ts', ?)"
                    " WHERE id = ? AND draft IS NOT NULL",
                    (ts, draft_of),
                )
            await db.execute(
                "UPDATE slack_posts SET ts = ? WHERE key = ? AND ts IS NULL", (ts, landing)
            )
            if riders:
                await db.execute(
                    f"DELETE FROM jobs WHERE state = 'pending' AND key IN {rows.ONE_OF}",  # noqa: S608
                    (rows.listed(riders),),
                )

    async def messages_at(self, channel: str, ts: str) -> list[Message]:
        found = await self._all(
            "SELECT * FROM messages INDEXED BY messages_carried"
            " WHERE slack_channel = ? AND slack_ts = ? ORDER BY created_at, rowid",
            (channel, ts),
        )
        return [rows.message(row) for row in found]

    async def text_to_post(self, message_id: str, conversation_id: int) -> TextToPost:
        def read(db: sqlite3.Connection) -> TextToPost:
            message = rows.one(db, "SELECT * FROM messages WHERE id = ?", (message_id,))
            found = rows.one(db, "SELECT * FROM conversations WHERE id = ?", (conversation_id,))
            conversation = None if found is None else rows.conversation(found)
            contact = None
            if conversation is not None:
                phone = (conversation.subscriber,)
                known = rows.one(db, "SELECT * FROM contacts WHERE phone = ?", phone)
                contact = None if known is None else rows.contact(known)
            return TextToPost(
                message=None if message is None else rows.message(message),
                conversation=conversation,
                contact=contact,
            )

        return await self._trip(read)  # one trip to the database thread
