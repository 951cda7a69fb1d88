"""Texts the business sends, from queued (with their send job) to delivered."""

from __future__ import annotations

import sqlite3
import uuid
from datetime import datetime

import aiosqlite

from bridge.models import (
    DeliveryStatus,
    Direction,
    Message,
    MessagePurpose,
    OutboundRecord,
    OutboundReply,
    SendAttempt,
    utcnow,
)
from bridge.store import effects
from bridge.store.base import StoreConflict
from bridge.store.sqlite import rows
from bridge.store.sqlite.connection import SQLiteConnection
from bridge.store.sqlite.jobs import enqueue_in


async def _send(db: aiosqlite.Connection, message: Message, *, run_at: float) -> None:
    """The jobs of a queued text, in the caller's transaction."""
    for job in effects.after_queued(message):
        await enqueue_in(db, job, run_at=run_at)


class ReplyRows(SQLiteConnection):
    """ReplyStore on SQLite."""

    async def record_outbound(
        self,
        reply: OutboundReply,
        *,
        send_at: datetime | None,
        purpose: MessagePurpose = MessagePurpose.REPLY,
    ) -> OutboundRecord:
        now = utcnow()
        message = Message(
            id=uuid.uuid4().hex,
            conversation_id=reply.conversation_id,
            direction=Direction.OUTBOUND,
            body=reply.body,
            created_at=now,
            slack_channel=reply.slack_channel,
            slack_ts=reply.slack_ts,
            status=DeliveryStatus.QUEUED if send_at is not None else DeliveryStatus.HELD,
            author=reply.author,
            purpose=purpose,
        )
        async with self._tx() as db:
            cur = await db.execute(
                "INSERT INTO messages (id, conversation_id, direction, body, created_at,"
                " slack_channel, slack_ts, status, author, purpose)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (slack_channel, slack_ts) WHERE direction = 'outbound' DO NOTHING",
                (
                    message.id,
                    message.conversation_id,
                    message.direction.value,
                    message.body,
                    rows.ts(now),
                    message.slack_channel,
                    message.slack_ts,
                    message.status.value,
                    message.author,
                    purpose.value,
                ),
            )
            if cur.rowcount == 0:
                existing = await rows.fetchone(
                    db,
                    "SELECT * FROM messages WHERE slack_channel = ? AND slack_ts = ?",
                    (reply.slack_channel, reply.slack_ts),
                )
                assert existing is not None
                return OutboundRecord(message=rows.message(existing), created=False)
            await db.execute(
                "UPDATE conversations SET last_activity_at = max(last_activity_at, ?) WHERE id = ?",
                (rows.ts(now), reply.conversation_id),
            )
            if send_at is not None:
                await _send(db, message, run_at=rows.ts(send_at))
        return OutboundRecord(message=message, created=True)

    async def release_held(
        self, message_id: str, body: str, purpose: MessagePurpose, *, send_at: datetime
    ) -> Message | None:
        async with self._tx() as db:
            cur = await db.execute(
                "UPDATE messages SET status = 'queued', body = ?, purpose = ?"
                " WHERE id = ? AND status = 'held'",
                (body, purpose.value, message_id),
            )
            if cur.rowcount == 0:
                return None
            row = await rows.fetchone(db, "SELECT * FROM messages WHERE id = ?", (message_id,))
            assert row is not None
            message = rows.message(row)
            await _send(db, message, run_at=rows.ts(send_at))
        return message

    async def record_system_text(
        self,
        conversation_id: int,
        body: str,
        purpose: MessagePurpose,
        *,
        key: str,
        author: str | None = None,
        shown_ts: str | None = None,
    ) -> Message | None:
        now = utcnow()
        message = Message(
            id=key,
            conversation_id=conversation_id,
            direction=Direction.OUTBOUND,
            body=body,
            created_at=now,
            status=DeliveryStatus.QUEUED,
            purpose=purpose,
            author=author,
            shown_ts=shown_ts,
        )
        async with self._tx() as db:
            cur = await db.execute(
                "INSERT INTO messages (id, conversation_id, direction, body, created_at, status,"
                " purpose, author, shown_ts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (id) DO NOTHING",
                (
                    message.id,
                    conversation_id,
                    message.direction.value,
                    body,
                    rows.ts(now),
                    message.status.value,
                    purpose.value,
                    author,
                    shown_ts,
                ),
            )
            if cur.rowcount == 0:
                return None
            await _send(db, message, run_at=rows.ts(now))
        return message

    async def edit_unsent(self, message_id: str, body: str) -> bool:
        changed = await self._write(
            "UPDATE messages SET body = ? WHERE id = ? AND status = 'queued'", (body, message_id)
        )
        return changed == 1

    async def cancel_unsent(self, message_id: str) -> bool:
        changed = await self._write(
            "UPDATE messages SET status = 'cancelled'"
            " WHERE id = ? AND status IN ('queued', 'held')",
            (message_id,),
        )
        return changed == 1

    async def begin_send(self, message_id: str) -> SendAttempt | None:
        async with self._tx() as db:
            row = await rows.fetchone(db, "SELECT * FROM messages WHERE id = ?", (message_id,))
            if row is None:
                return None
            message = rows.message(row)
            if message.status is DeliveryStatus.SENDING:
                # Sending since before version 4 recorded it: its creation is the bound.
                began = rows.dt(row["send_began_at"]) or message.created_at
                return SendAttempt(message=message, resumed=True, began_at=began)
            if message.status is not DeliveryStatus.QUEUED:
                return None
            now = utcnow()
            await db.execute(
                "UPDATE messages SET status = 'sending', send_began_at = ? WHERE id = ?",
                (rows.ts(now), message_id),
            )
        sending = message.model_copy(update={"status": DeliveryStatus.SENDING})
        return SendAttempt(message=sending, resumed=False, began_at=now)

    async def finish_send(
        self,
        message_id: str,
        status: DeliveryStatus,
        *,
        sid: str | None = None,
        error_code: int | None = None,
    ) -> Message:
        async with self._tx() as db:
            try:
                await db.execute(
                    "UPDATE messages SET status = ?, sid = coalesce(?, sid), error_code = ?"
                    " WHERE id = ?",
                    (status.value, sid, error_code, message_id),
                )
            except sqlite3.IntegrityError:
                raise StoreConflict(f"the sid {sid} is another message's") from None
            row = await rows.fetchone(db, "SELECT * FROM messages WHERE id = ?", (message_id,))
        if row is None:
            raise KeyError(message_id)
        return rows.message(row)

    async def update_delivery(
        self, sid: str, status: DeliveryStatus, error_code: int | None
    ) -> Message | None:
        async with self._tx() as db:
            # Only replies the bridge sent have delivery states; a callback naming an
            # inbound text's sid changes nothing.
            row = await rows.fetchone(
                db, "SELECT * FROM messages WHERE sid = ? AND direction = 'outbound'", (sid,)
            )
            if row is None:
                return None
            message = rows.message(row)
            if status.rank <= message.status.rank:
                return None  # a late or repeated callback never moves a message back
            await db.execute(
                "UPDATE messages SET status = ?, error_code = coalesce(?, error_code) WHERE id = ?",
                (status.value, error_code, message.id),
            )
        return message.model_copy(
            update={
                "status": status,
                "error_code": message.error_code if error_code is None else error_code,
            }
        )
