"""Texts received (idempotent by MessageSid, written in group commits) and where
Slack shows messages."""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Sequence
from datetime import datetime

from bridge.models import (
    Conversation,
    InboundRecord,
    InboundSms,
    KeywordMark,
    Message,
    NewJob,
)
from bridge.store import effects
from bridge.store.batching import GroupCommit, Take
from bridge.store.sqlite import rows
from bridge.store.sqlite.connection import SQLiteConnection
from bridge.store.sqlite.conversations import touch_conversations
from bridge.store.sqlite.jobs import enqueue_now, insert_jobs_now

Text = tuple[InboundSms, KeywordMark | None]  # what a webhook submits to the group commit
# The texts known already, the texts recorded now, the conversations of the known ones.
Written = tuple[dict[str, Message], dict[str, InboundRecord], dict[int, Conversation]]


class MessageRows(SQLiteConnection):
    """MessageStore on SQLite."""

    _inbound: GroupCommit[Text, InboundRecord]

    async def record_inbound(
        self, sms: InboundSms, *, keyword: KeywordMark | None = None
    ) -> InboundRecord:
        return await self._inbound.submit((sms, keyword))

    async def _record_inbound_batch(self, take: Take[Text]) -> list[InboundRecord]:
        """One transaction for many texts, in a fixed handful of statements whatever
        the batch size, and one trip to the database thread: what makes the webhook
        fast under load."""

        def write(db: sqlite3.Connection) -> tuple[list[Text], Written]:
            batch = take()  # now that this process may write: all that came meanwhile
            return batch, self._write_inbound(db, batch)

        batch, (known, created, conversations_of_known) = await self._transaction(write)
        results: list[InboundRecord] = []
        handed_out: set[str] = set()
        for sms, _ in batch:
            if sms.sid in created and sms.sid not in handed_out:
                handed_out.add(sms.sid)
                results.append(created[sms.sid])
                continue
            message = known.get(sms.sid) or created[sms.sid].message
            conversation = conversations_of_known.get(message.conversation_id) or (
                created[sms.sid].conversation
            )
            results.append(InboundRecord(conversation=conversation, message=message, created=False))
        return results

    def _write_inbound(self, db: sqlite3.Connection, batch: Sequence[Text]) -> Written:
        """The group commit's statements, on the database thread."""
        sids = [sms.sid for sms, _ in batch]
        known = {
            row["sid"]: rows.message(row)
            for row in db.execute(
                f"SELECT * FROM messages WHERE sid IN {rows.ONE_OF}",  # noqa: S608
                (rows.listed(sids),),
            )
        }
        fresh: dict[str, Text] = {}
        for sms, keyword in batch:
            if sms.sid not in known:
                fresh.setdefault(sms.sid, (sms, keyword))  # a repeat in the batch too
        conversations, opening = touch_conversations(
            db,
            [
                (sms.channel, sms.business_number, sms.subscriber, sms.received_at)
                for sms, _ in fresh.values()
            ],
        )
        created: dict[str, InboundRecord] = {}
        jobs: list[tuple[NewJob, float]] = []
        timers: list[tuple[NewJob, float]] = []
        for sid, (sms, keyword) in fresh.items():
            addresses = (sms.channel, sms.business_number, sms.subscriber)
            conversation = conversations[addresses]
            message = Message.received(sms, conversation.id, keyword)
            created[sid] = InboundRecord(conversation=conversation, message=message, created=True)
            opened = addresses in opening
            opening.discard(addresses)  # the first of its texts opened it
            jobs += [
                (job, rows.ts(sms.received_at))
                for job in effects.after_inbound(
                    conversation, message, opened=opened, publishing=self.publishing
                )
            ]
            timer = effects.first_response_timer(message, self.first_response_minutes)
            if timer is not None:
                timers.append((timer[0], rows.ts(timer[1])))
        db.executemany(
            "INSERT INTO messages (id, conversation_id, direction, body, media, sid,"
            " created_at, keyword, answers) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    r.message.id,
                    r.message.conversation_id,
                    r.message.direction.value,
                    r.message.body,
                    json.dumps([m.model_dump() for m in r.message.media]),
                    r.message.sid,
                    rows.ts(r.message.created_at),
                    None if r.message.keyword is None else r.message.keyword.value,
                    r.message.answers,
                )
                for r in created.values()
            ],
        )
        insert_jobs_now(db, jobs)
        for timer_job, due in timers:  # one per conversation: a pending one stays
            enqueue_now(db, timer_job, run_at=due)
        known_ids = list({m.conversation_id for m in known.values()})
        conversations_of_known = (  # provider retries only: most batches have none
            {
                row["id"]: rows.conversation(row)
                for row in db.execute(
                    f"SELECT * FROM conversations WHERE id IN {rows.ONE_OF}",  # noqa: S608
                    (rows.listed(known_ids),),
                )
            }
            if known_ids
            else {}
        )
        return known, created, conversations_of_known

    async def get_message(self, message_id: str) -> Message | None:
        row = await self._one("SELECT * FROM messages WHERE id = ?", (message_id,))
        return None if row is None else rows.message(row)

    async def get_message_by_slack_ts(self, channel: str, ts: str) -> Message | None:
        row = await self._one(
            "SELECT * FROM messages WHERE slack_channel = ? AND slack_ts = ?", (channel, ts)
        )
        return None if row is None else rows.message(row)

    async def get_message_by_sid(self, sid: str) -> Message | None:
        row = await self._one("SELECT * FROM messages WHERE sid = ?", (sid,))
        return None if row is None else rows.message(row)

    async def recent_messages(
        self, conversation_id: int, *, limit: int, until: datetime | None = None
    ) -> list[Message]:
        latest = math.inf if until is None else rows.ts(until)
        found = await self._all(
            "SELECT * FROM messages WHERE conversation_id = ? AND created_at <= ?"
            " ORDER BY created_at DESC, rowid DESC LIMIT ?",
            (conversation_id, latest, limit),
        )
        return [rows.message(row) for row in reversed(found)]

    async def set_message_slack_ts(
        self,
        message_id: str,
        channel: str,
        ts: str,
        *,
        with_draft: bool = False,
        landing: str | None = None,
    ) -> None:
        located = (
            "UPDATE messages SET slack_channel = ?, slack_ts = ?, draft = CASE WHEN ? AND"
            " draft IS NOT NULL THEN json_set(draft, '$.slack_ts', ?) ELSE draft END"
            " WHERE id = ?",
            (channel, ts, with_draft, ts, message_id),
        )
        if landing is None:
            await self._write(*located)
            return

        def land(db: sqlite3.Connection) -> None:
            db.execute(*located)
            db.execute("UPDATE slack_posts SET ts = ? WHERE key = ? AND ts IS NULL", (ts, landing))

        await self._transaction(land)  # every text posted: one trip to the database thread

    async def mark_media_posted(self, message_id: str) -> None:
        await self._write("UPDATE messages SET media_posted = 1 WHERE id = ?", (message_id,))

    async def set_shown_ts(self, message_id: str, ts: str) -> None:
        await self._write("UPDATE messages SET shown_ts = ? WHERE id = ?", (ts, message_id))
