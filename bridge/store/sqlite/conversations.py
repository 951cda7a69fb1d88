"""Conversations: found, opened, touched by texts, changed, listed; their threads."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime

from bridge.models import (
    Channel,
    Conversation,
    ConversationPatch,
    InboxFilter,
    NewJob,
    utcnow,
)
from bridge.store.sqlite import rows
from bridge.store.sqlite.connection import SQLiteConnection
from bridge.store.sqlite.jobs import enqueue_in

_BY_ADDRESSES = (
    "SELECT * FROM conversations WHERE channel = ? AND business_number = ? AND subscriber = ?"
)


# The texts of `touch_conversations` as rows, from one JSON list of [channel, business
# number, subscriber, first time, last time]: a fixed text (see `rows.ONE_OF`).
_TEXTS = (
    "v (channel, business_number, subscriber, first_at, last_at) AS (SELECT"
    " json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]'),"
    " json_extract(value, '$[3]'), json_extract(value, '$[4]') FROM json_each(?))"
)


def touch_conversations(
    db: sqlite3.Connection, texts: Sequence[tuple[Channel, str, str, datetime]]
) -> tuple[dict[tuple[str, str, str], Conversation], set[tuple[str, str, str]]]:
    """The conversations of these (channel, business number, subscriber, time) texts
    after them: known ones touched, new ones opened (and which were opened). The same
    three statements whatever the count, and never an upsert: SQLite's AUTOINCREMENT
    would use up a number on every text from a known subscriber, and agents type
    these numbers (#2)."""
    if not texts:
        return {}, set()
    first: dict[tuple[str, str, str], float] = {}
    last: dict[tuple[str, str, str], float] = {}
    for channel, business, subscriber, at in texts:
        key, stamp = (channel.value, business, subscriber), rows.ts(at)
        first[key] = min(first.get(key, stamp), stamp)
        last[key] = max(last.get(key, stamp), stamp)
    batch = rows.listed([*key, first[key], at] for key, at in last.items())
    db.execute(
        f"WITH {_TEXTS} UPDATE conversations SET last_activity_at ="  # noqa: S608
        " max(last_activity_at, v.last_at), last_inbound_at ="
        " max(coalesce(last_inbound_at, v.last_at), v.last_at) FROM v"
        " WHERE conversations.channel = v.channel"
        " AND conversations.business_number = v.business_number"
        " AND conversations.subscriber = v.subscriber",
        (batch,),
    )
    opened = db.execute(
        f"WITH {_TEXTS} INSERT INTO conversations (channel, business_number, subscriber,"  # noqa: S608
        " created_at, last_activity_at, last_inbound_at)"
        " SELECT v.channel, v.business_number, v.subscriber, v.first_at, v.last_at, v.last_at"
        " FROM v WHERE NOT EXISTS (SELECT 1 FROM conversations c WHERE c.channel = v.channel"
        " AND c.business_number = v.business_number AND c.subscriber = v.subscriber)"
        " RETURNING channel, business_number, subscriber",
        (batch,),
    ).fetchall()
    found = db.execute(
        f"WITH {_TEXTS} SELECT * FROM conversations"  # noqa: S608
        " WHERE (channel, business_number, subscriber)"
        " IN (SELECT channel, business_number, subscriber FROM v)",
        (batch,),
    ).fetchall()
    by_addresses = {
        (row["channel"], row["business_number"], row["subscriber"]): rows.conversation(row)
        for row in found
    }
    return by_addresses, {(row[0], row[1], row[2]) for row in opened}


class ConversationRows(SQLiteConnection):
    """ConversationStore on SQLite."""

    async def get_conversation(self, conversation_id: int) -> Conversation | None:
        row = await self._one("SELECT * FROM conversations WHERE id = ?", (conversation_id,))
        return None if row is None else rows.conversation(row)

    async def find_conversation(
        self, business_number: str, subscriber: str, channel: Channel = Channel.SMS
    ) -> Conversation | None:
        row = await self._one(_BY_ADDRESSES, (channel.value, business_number, subscriber))
        return None if row is None else rows.conversation(row)

    async def find_conversation_by_thread(
        self, channel: str, thread_ts: str
    ) -> Conversation | None:
        row = await self._one(
            "SELECT * FROM conversations WHERE slack_channel = ? AND slack_thread_ts = ?",
            (channel, thread_ts),
        )
        return None if row is None else rows.conversation(row)

    async def open_conversation(
        self, business_number: str, subscriber: str, channel: Channel = Channel.SMS
    ) -> Conversation:
        key = (channel.value, business_number, subscriber)
        async with self._tx() as db:
            row = await rows.fetchone(db, _BY_ADDRESSES, key)
            if row is not None:
                return rows.conversation(row)
            at = utcnow()
            await db.execute(
                "INSERT INTO conversations (channel, business_number, subscriber, created_at,"
                " last_activity_at) VALUES (?, ?, ?, ?, ?)",
                (*key, rows.ts(at), rows.ts(at)),
            )
            row = await rows.fetchone(db, _BY_ADDRESSES, key)
        assert row is not None
        return rows.conversation(row)

    async def update_conversation(
        self, conversation_id: int, patch: ConversationPatch, *, jobs: Sequence[NewJob] = ()
    ) -> Conversation | None:
        changes = {name: rows.column(getattr(patch, name)) for name in patch.model_fields_set}
        values = list(changes.values())
        async with self._tx() as db:
            if changes:
                assignments = ", ".join(f"{name} = ?" for name in changes)  # model field names
                await db.execute(
                    f"UPDATE conversations SET {assignments} WHERE id = ?",  # noqa: S608
                    (*values, conversation_id),
                )
            row = await rows.fetchone(
                db, "SELECT * FROM conversations WHERE id = ?", (conversation_id,)
            )
            now = rows.ts(utcnow())
            for job in jobs if row is not None else ():
                await enqueue_in(db, job, run_at=now)
        return None if row is None else rows.conversation(row)

    async def list_conversations(
        self, inbox: InboxFilter, *, user: str | None = None, limit: int = 50
    ) -> list[Conversation]:
        where = {
            InboxFilter.ALL: ("1", ()),
            InboxFilter.OPEN: ("status = 'open'", ()),
            InboxFilter.MINE: ("assignee = ? AND status = 'open'", (user,)),
            InboxFilter.UNASSIGNED: ("assignee IS NULL AND status = 'open'", ()),
            InboxFilter.FLAGGED: ("flagged = 1 AND status = 'open'", ()),
            InboxFilter.CAMPAIGNS: ("0", ()),
        }[inbox]
        found = await self._all(
            f"SELECT * FROM conversations WHERE {where[0]}"  # noqa: S608 - fixed fragments
            " ORDER BY last_activity_at DESC LIMIT ?",
            (*where[1], limit),
        )
        return [rows.conversation(row) for row in found]

    async def set_thread(
        self, conversation_id: int, channel: str, thread_ts: str, *, replacing: str | None
    ) -> bool:
        return (
            await self._write(
                "UPDATE conversations SET slack_channel = ?, slack_thread_ts = ?"
                " WHERE id = ? AND slack_thread_ts IS ?",
                (channel, thread_ts, conversation_id, replacing),
            )
            == 1
        )

    async def clear_thread(self, conversation_id: int, thread_ts: str) -> bool:
        return (
            await self._write(
                "UPDATE conversations SET slack_thread_ts = NULL, header_activity_at = NULL,"
                " thread_epoch = thread_epoch + 1 WHERE id = ? AND slack_thread_ts = ?",
                (conversation_id, thread_ts),
            )
            == 1
        )

    async def mark_header_shown(self, conversation_id: int, activity_at: datetime) -> None:
        await self._write(
            "UPDATE conversations SET header_activity_at = ? WHERE id = ?",
            (rows.ts(activity_at), conversation_id),
        )
