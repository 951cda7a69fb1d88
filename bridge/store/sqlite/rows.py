"""Rows and models: how SQLite stores a value, and the model of a row; the
few-trip query helpers every role uses."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import aiosqlite

from bridge.campaigns.models import (
    Campaign,
    CampaignSpec,
    CampaignState,
    Recipient,
    RecipientState,
)
from bridge.models import (
    Channel,
    Contact,
    Conversation,
    ConversationStatus,
    DeliveryStatus,
    Direction,
    Job,
    JobKind,
    KeywordMark,
    Media,
    Message,
    MessageDraft,
    MessagePurpose,
    SlackPost,
)


def ts(value: datetime) -> float:
    return value.timestamp()


def dt(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, UTC)


def column(value: object) -> object:
    """A model value as SQLite stores it."""
    if isinstance(value, datetime):
        return ts(value)
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, ConversationStatus):
        return value.value
    return value


def contact(row: aiosqlite.Row) -> Contact:
    return Contact(
        phone=row["phone"],
        name=row["name"],
        fields=json.loads(row["fields"]),
        tags=tuple(json.loads(row["tags"])),
    )


def conversation(row: aiosqlite.Row) -> Conversation:
    return Conversation(
        id=row["id"],
        channel=Channel(row["channel"]),
        business_number=row["business_number"],
        subscriber=row["subscriber"],
        status=row["status"],
        assignee=row["assignee"],
        flagged=bool(row["flagged"]),
        slack_channel=row["slack_channel"],
        slack_thread_ts=row["slack_thread_ts"],
        created_at=datetime.fromtimestamp(row["created_at"], UTC),
        last_activity_at=datetime.fromtimestamp(row["last_activity_at"], UTC),
        header_activity_at=dt(row["header_activity_at"]),
        flag_reason=row["flag_reason"],
        seen_at=dt(row["seen_at"]),
        thread_epoch=row["thread_epoch"],
        last_inbound_at=dt(row["last_inbound_at"]),
        team=row["team"],
    )


def message(row: aiosqlite.Row) -> Message:
    return Message(
        id=row["id"],
        conversation_id=row["conversation_id"],
        direction=Direction(row["direction"]),
        body=row["body"],
        media=tuple(Media(**m) for m in json.loads(row["media"])),
        sid=row["sid"],
        created_at=datetime.fromtimestamp(row["created_at"], UTC),
        slack_channel=row["slack_channel"],
        slack_ts=row["slack_ts"],
        status=DeliveryStatus(row["status"]),
        error_code=row["error_code"],
        author=row["author"],
        media_posted=bool(row["media_posted"]),
        keyword=None if row["keyword"] is None else KeywordMark(row["keyword"]),
        purpose=MessagePurpose(row["purpose"]),
        intent=row["intent"],
        urgency=row["urgency"],
        draft=None if row["draft"] is None else MessageDraft.model_validate_json(row["draft"]),
        shown_ts=row["shown_ts"],
        campaign_id=row["campaign_id"],
        answers=row["answers"],
    )


def post(row: aiosqlite.Row) -> SlackPost:
    return SlackPost(
        key=row["key"],
        channel=row["channel"],
        thread_ts=row["thread_ts"],
        started_at=datetime.fromtimestamp(row["started_at"], UTC),
        ts=row["ts"],
        detail=row["detail"],
    )


def job(row: aiosqlite.Row, token: str) -> Job:
    return Job(
        key=row["key"],
        kind=JobKind(row["kind"]),
        lane=row["lane"],
        conversation_id=row["conversation_id"],
        message_id=row["message_id"],
        note=row["note"],
        user=row["user"],
        attempts=row["attempts"] + 1,
        lease_token=token,
        created_at=datetime.fromtimestamp(row["created_at"], UTC),
    )


# A list bound as one value: `x IN {ONE_OF}` with `listed(values)` as its parameter. The
# statement's text is the same whatever the list's length, so SQLite prepares it once and
# sqlite3 caches it once: with a placeholder per item, every length was a statement of
# its own, and the cache (128 per connection) filled with near-copies of up to ~185 KiB.
ONE_OF = "(SELECT value FROM json_each(?))"


def listed(values: Iterable[object]) -> str:
    return json.dumps(list(values))


async def fetchall(
    db: aiosqlite.Connection, sql: str, params: Iterable[Any] = ()
) -> list[aiosqlite.Row]:
    # One trip to aiosqlite's thread, not three (execute, fetch, close): each trip
    # wakes the event loop.
    return list(await db.execute_fetchall(sql, tuple(params)))


async def fetchone(
    db: aiosqlite.Connection, sql: str, params: Iterable[Any] = ()
) -> aiosqlite.Row | None:
    """The one row of a query by key (or with LIMIT 1)."""
    found = await fetchall(db, sql, params)
    return found[0] if found else None


def one(db: sqlite3.Connection, sql: str, params: Iterable[Any] = ()) -> sqlite3.Row | None:
    """`fetchone` on the database thread: the statement runs to its end (a RETURNING
    or a read left half-stepped would still be open at COMMIT)."""
    found = every(db, sql, params)
    return found[0] if found else None


def every(db: sqlite3.Connection, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
    """`fetchall` on the database thread."""
    return db.execute(sql, tuple(params)).fetchall()


def campaign(row: aiosqlite.Row, spec: CampaignSpec) -> Campaign:
    return Campaign(
        id=row["id"],
        spec=spec,
        state=CampaignState(row["state"]),
        created_by=row["created_by"],
        created_at=datetime.fromtimestamp(row["created_at"], UTC),
        started_at=dt(row["started_at"]),
        finished_at=dt(row["finished_at"]),
        closes_at=dt(row["closes_at"]),
        closed=bool(row["closed"]),
        slack_channel=row["slack_channel"],
        progress_ts=row["progress_ts"],
        results_ts=row["results_ts"],
    )


def recipient(row: aiosqlite.Row) -> Recipient:
    return Recipient(
        campaign_id=row["campaign_id"],
        subscriber=row["subscriber"],
        state=RecipientState(row["state"]),
        reason=row["reason"],
        message_id=row["message_id"],
        conversation_id=row["conversation_id"],
    )
