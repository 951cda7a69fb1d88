"""SQLite engine: the embedded default. One connection in WAL mode; one effect is
one transaction, so a message and its pending delivery are committed together."""

from __future__ import annotations

import asyncio
import json
import math
import sqlite3
import uuid
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite

from bridge.jobs import post_job, send_job
from bridge.models import (
    Channel,
    ConsentEvent,
    ConsentKind,
    ConsentSource,
    ConsentState,
    Contact,
    Conversation,
    ConversationPatch,
    ConversationStatus,
    DeliveryStatus,
    Direction,
    DraftState,
    InboundRecord,
    InboundSms,
    InboxFilter,
    Intent,
    Job,
    JobKind,
    KeywordMark,
    Media,
    Message,
    MessageDraft,
    MessagePurpose,
    NewJob,
    OutboundRecord,
    OutboundReply,
    PostAttempt,
    SendAttempt,
    SlackPost,
    Urgency,
    utcnow,
)
from bridge.store.base import StoreConflict, StoreUnavailable
from bridge.store.batching import GroupCommit
from bridge.store.health import WriteHealth, watch_refusals

# Each entry moves the schema one version on. Once a version has shipped, never edit
# its entry: add the next one.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE conversations (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        business_number TEXT NOT NULL,
        subscriber TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'open',
        assignee TEXT,
        flagged INTEGER NOT NULL DEFAULT 0,
        slack_channel TEXT,
        slack_thread_ts TEXT,
        created_at REAL NOT NULL,
        last_activity_at REAL NOT NULL,
        header_activity_at REAL,
        flag_reason TEXT,
        seen_at REAL,
        UNIQUE (business_number, subscriber)
    );
    CREATE INDEX conversations_thread ON conversations (slack_channel, slack_thread_ts);
    CREATE INDEX conversations_activity ON conversations (last_activity_at);
    CREATE INDEX conversations_assignee ON conversations (assignee, last_activity_at);
    CREATE TABLE canned (name TEXT PRIMARY KEY, text TEXT NOT NULL);
    CREATE TABLE home_viewers (user TEXT PRIMARY KEY, filter TEXT NOT NULL);
    CREATE TABLE messages (
        id TEXT PRIMARY KEY,
        conversation_id INTEGER NOT NULL REFERENCES conversations (id),
        direction TEXT NOT NULL,
        body TEXT NOT NULL,
        media TEXT NOT NULL DEFAULT '[]',
        sid TEXT UNIQUE,
        created_at REAL NOT NULL,
        slack_channel TEXT,
        slack_ts TEXT,
        status TEXT NOT NULL DEFAULT 'received',
        error_code INTEGER,
        author TEXT,
        media_posted INTEGER NOT NULL DEFAULT 0,
        keyword TEXT,
        purpose TEXT NOT NULL DEFAULT 'reply'
    );
    CREATE INDEX messages_conversation ON messages (conversation_id, created_at);
    CREATE UNIQUE INDEX messages_slack ON messages (slack_channel, slack_ts);
    CREATE TABLE contacts (
        phone TEXT PRIMARY KEY,
        name TEXT,
        fields TEXT NOT NULL DEFAULT '{}'
    );
    CREATE TABLE jobs (
        key TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        lane TEXT NOT NULL,
        seq INTEGER NOT NULL,
        state TEXT NOT NULL,
        run_at REAL NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        lease_token TEXT,
        lease_until REAL,
        last_error TEXT,
        conversation_id INTEGER,
        message_id TEXT,
        note TEXT,
        user TEXT,
        -- 1: enqueued again while running; runs once more when the current run ends
        rerun INTEGER NOT NULL DEFAULT 0,
        created_at REAL NOT NULL
    );
    CREATE UNIQUE INDEX jobs_seq ON jobs (seq);
    CREATE INDEX jobs_lane ON jobs (lane, seq) WHERE state IN ('pending', 'running');
    CREATE INDEX jobs_state ON jobs (state, kind);
    CREATE INDEX jobs_pending ON jobs (seq) WHERE state = 'pending';
    CREATE INDEX jobs_leases ON jobs (lease_until) WHERE state = 'running';
    -- Append-only: the current consent of a subscriber is derived from it.
    CREATE TABLE consent_events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        business_number TEXT NOT NULL,
        subscriber TEXT NOT NULL,
        kind TEXT NOT NULL,
        granted INTEGER NOT NULL,
        source TEXT NOT NULL,
        at REAL NOT NULL,
        evidence TEXT NOT NULL DEFAULT '',
        ref TEXT
    );
    CREATE UNIQUE INDEX consent_ref ON consent_events (ref, kind) WHERE ref IS NOT NULL;
    CREATE INDEX consent_latest ON consent_events (business_number, subscriber, kind, at);
    CREATE TRIGGER consent_append_only_update BEFORE UPDATE ON consent_events
    BEGIN SELECT RAISE(ABORT, 'the consent ledger is append-only'); END;
    CREATE TRIGGER consent_append_only_delete BEFORE DELETE ON consent_events
    BEGIN SELECT RAISE(ABORT, 'the consent ledger is append-only'); END;
    """,
    # 2: what the assistant made of an inbound text, and its draft (a JSON document).
    """
    ALTER TABLE messages ADD COLUMN intent TEXT;
    ALTER TABLE messages ADD COLUMN urgency TEXT;
    ALTER TABLE messages ADD COLUMN draft TEXT;
    """,
    # 3: counters shared by every process (the day's AI tokens).
    """
    CREATE TABLE usage (key TEXT PRIMARY KEY, amount INTEGER NOT NULL);
    """,
    # 4: when a reply's first send attempt began (see `begin_send`).
    """
    ALTER TABLE messages ADD COLUMN send_began_at REAL;
    """,
    # 5: the row a store that met a refused write rewrites to learn that writes work.
    """
    CREATE TABLE write_probes (id INTEGER PRIMARY KEY, at REAL NOT NULL);
    """,
    # 6: posts into Slack, recorded before the call (exactly once into Slack), and the
    # count of a conversation's vanished threads, which names its next parent's post.
    """
    CREATE TABLE slack_posts (
        key TEXT PRIMARY KEY,
        channel TEXT NOT NULL,
        thread_ts TEXT,
        started_at REAL NOT NULL,
        ts TEXT,
        detail TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX slack_posts_unsettled ON slack_posts (channel, started_at) WHERE ts IS NULL;
    CREATE INDEX slack_posts_age ON slack_posts (started_at);
    ALTER TABLE conversations ADD COLUMN thread_epoch INTEGER NOT NULL DEFAULT 0;
    """,
    # 7: the card that shows a reply sent from it (a draft), for its delivery marks.
    """
    ALTER TABLE messages ADD COLUMN shown_ts TEXT;
    """,
    # 8: channels. A conversation is keyed by (channel, business number, subscriber):
    # SQLite cannot change a table's UNIQUE constraint, so the table is rebuilt (with
    # foreign keys off, see `_open`), keeping ids and the numbering's counter. Every
    # earlier conversation and consent entry was SMS. `last_inbound_at` starts empty:
    # only WhatsApp reads it, and no earlier conversation is WhatsApp.
    """
    CREATE TABLE conversations_by_channel (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        channel TEXT NOT NULL DEFAULT 'sms',
        business_number TEXT NOT NULL,
        subscriber TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'open',
        assignee TEXT,
        flagged INTEGER NOT NULL DEFAULT 0,
        slack_channel TEXT,
        slack_thread_ts TEXT,
        created_at REAL NOT NULL,
        last_activity_at REAL NOT NULL,
        header_activity_at REAL,
        flag_reason TEXT,
        seen_at REAL,
        thread_epoch INTEGER NOT NULL DEFAULT 0,
        last_inbound_at REAL,
        UNIQUE (channel, business_number, subscriber)
    );
    INSERT INTO conversations_by_channel (id, business_number, subscriber, status, assignee,
        flagged, slack_channel, slack_thread_ts, created_at, last_activity_at,
        header_activity_at, flag_reason, seen_at, thread_epoch)
    SELECT id, business_number, subscriber, status, assignee, flagged, slack_channel,
        slack_thread_ts, created_at, last_activity_at, header_activity_at, flag_reason,
        seen_at, thread_epoch
    FROM conversations;
    UPDATE sqlite_sequence SET seq = max(seq, coalesce(
        (SELECT seq FROM sqlite_sequence WHERE name = 'conversations'), 0))
    WHERE name = 'conversations_by_channel';
    DROP TABLE conversations;
    ALTER TABLE conversations_by_channel RENAME TO conversations;
    CREATE INDEX conversations_thread ON conversations (slack_channel, slack_thread_ts);
    CREATE INDEX conversations_activity ON conversations (last_activity_at);
    CREATE INDEX conversations_assignee ON conversations (assignee, last_activity_at);
    ALTER TABLE consent_events ADD COLUMN channel TEXT NOT NULL DEFAULT 'sms';
    DROP INDEX consent_latest;
    CREATE INDEX consent_latest ON consent_events (channel, business_number, subscriber, kind, at);
    """,
)

# Posts are looked up only while their job may run again; older records are pruned.
POST_RETENTION_SECONDS = 7 * 24 * 3600
POST_PRUNE_EVERY_SECONDS = 3600

# SQLite's primary result codes that mean the file takes no writes now: what is wrong,
# and where to look.
_REFUSALS = {
    "SQLITE_FULL": ("disk full", "free space on its volume"),
    "SQLITE_IOERR": (
        "disk I/O error",
        "look for a full disk, a file size limit (ulimit -f) or a failing device",
    ),
    "SQLITE_READONLY": ("read-only", "make the file, its folder and its volume writable"),
    "SQLITE_CORRUPT": ("damaged file", "restore it from a backup"),
    "SQLITE_NOTADB": ("damaged file", "restore it from a backup"),
    "SQLITE_CANTOPEN": ("cannot open", "the file or its folder is gone or not accessible"),
}


_BY_ADDRESSES = (
    "SELECT * FROM conversations WHERE channel = ? AND business_number = ? AND subscriber = ?"
)


def _ts(value: datetime) -> float:
    return value.timestamp()


def _dt(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, UTC)


def _column(value: object) -> object:
    """A model value as SQLite stores it."""
    if isinstance(value, datetime):
        return _ts(value)
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, ConversationStatus):
        return value.value
    return value


def _conversation(row: aiosqlite.Row) -> Conversation:
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
        header_activity_at=_dt(row["header_activity_at"]),
        flag_reason=row["flag_reason"],
        seen_at=_dt(row["seen_at"]),
        thread_epoch=row["thread_epoch"],
        last_inbound_at=_dt(row["last_inbound_at"]),
    )


def _message(row: aiosqlite.Row) -> Message:
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
    )


def _post(row: aiosqlite.Row) -> SlackPost:
    return SlackPost(
        key=row["key"],
        channel=row["channel"],
        thread_ts=row["thread_ts"],
        started_at=datetime.fromtimestamp(row["started_at"], UTC),
        ts=row["ts"],
        detail=row["detail"],
    )


def _job(row: aiosqlite.Row, token: str) -> Job:
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


def _marks(values: Sequence[object]) -> str:
    """Placeholders for an IN (…) list."""
    return ", ".join("?" for _ in values)


async def _fetchall(
    db: aiosqlite.Connection, sql: str, params: Iterable[Any] = ()
) -> list[aiosqlite.Row]:
    # One trip to aiosqlite's thread, not three (execute, fetch, close): each trip
    # wakes the event loop.
    return list(await db.execute_fetchall(sql, tuple(params)))


async def _fetchone(
    db: aiosqlite.Connection, sql: str, params: Iterable[Any] = ()
) -> aiosqlite.Row | None:
    """The one row of a query by key (or with LIMIT 1)."""
    rows = await _fetchall(db, sql, params)
    return rows[0] if rows else None


@watch_refusals
class SQLiteStore:
    def __init__(self, path: str | Path, *, probe_seconds: float = 2.0) -> None:
        self._path = str(path)
        self._folder = Path(path).absolute().parent
        self._db: aiosqlite.Connection | None = None
        # One connection: the lock keeps each effect's statements together, so no
        # statement of another effect lands inside an open transaction.
        self._lock = asyncio.Lock()
        self._inbound = GroupCommit(self._record_inbound_batch)
        self._post_attempts = GroupCommit(self._begin_post_batch)
        self._pruned_at = 0.0  # when old post records were last pruned (epoch seconds)
        self._health = WriteHealth(self._refusal, self._probe, interval=probe_seconds)

    @property
    def db(self) -> aiosqlite.Connection:
        if self._db is None:
            raise RuntimeError("SQLiteStore.open() was not awaited")
        return self._db

    async def open(self) -> None:
        if not await asyncio.to_thread(self._folder.is_dir):
            raise StoreUnavailable(f"BRIDGE_DB_PATH: the folder {self._folder} does not exist")
        try:
            await self._open()
        except sqlite3.Error as exc:
            await self.close()
            # aiosqlite stops its worker thread on a failed connect; let it finish
            # before the caller exits and closes the loop under it.
            await asyncio.sleep(0.1)
            raise StoreUnavailable(f"BRIDGE_DB_PATH: cannot open {self._path}: {exc}") from None

    async def _open(self) -> None:
        # isolation_level=None: we issue BEGIN ourselves, so one effect = one transaction.
        self._db = await aiosqlite.connect(self._path, isolation_level=None)
        self._db.row_factory = aiosqlite.Row
        for pragma in (
            "journal_mode = WAL",
            # fsync at every commit: an acknowledged text survives power loss too. Group
            # commit keeps that to one fsync for many webhooks.
            "synchronous = FULL",
            "busy_timeout = 5000",
        ):
            await self._db.execute(f"PRAGMA {pragma}")
        # Off while migrating: a migration may rebuild a table others refer to (SQLite's
        # documented way to change a constraint).
        await self._migrate()
        await self._db.execute("PRAGMA foreign_keys = ON")

    async def _migrate(self) -> None:
        async with self.db.execute("PRAGMA user_version") as cur:
            row = await cur.fetchone()
        version = row[0] if row else 0
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            await self.db.executescript(f"BEGIN; {script}; PRAGMA user_version = {number}; COMMIT;")

    async def close(self) -> None:
        await self._health.close()
        if self._db is not None:
            await self._db.close()
            self._db = None

    async def ping(self) -> bool:
        if self.refusing is not None:
            return False
        try:
            async with self.db.execute("SELECT 1") as cur:
                return await cur.fetchone() is not None
        except Exception:
            return False

    @property
    def refusing(self) -> StoreUnavailable | None:
        return self._health.refusing

    def _refusal(self, error: Exception) -> StoreUnavailable | None:
        name = getattr(error, "sqlite_errorname", "") if isinstance(error, sqlite3.Error) else ""
        found = _REFUSALS.get("_".join(name.split("_")[:2]))  # SQLITE_IOERR_WRITE → SQLITE_IOERR
        if found is None:
            return None
        reason, hint = found
        return StoreUnavailable(
            f"BRIDGE_DB_PATH: {self._path} refuses writes: {reason} ({name}); {hint}",
            reason=reason,
        )

    async def _probe(self) -> None:
        # A write, even after a failed one: SQLite rolls a failed transaction back and
        # the connection stays usable once the storage is.
        await self._write(
            "INSERT INTO write_probes (id, at) VALUES (1, ?)"
            " ON CONFLICT (id) DO UPDATE SET at = excluded.at",
            (_ts(utcnow()),),
        )

    @asynccontextmanager
    async def _tx(self) -> AsyncIterator[aiosqlite.Connection]:
        # IMMEDIATE takes the write lock up front, keeping other processes' writers out.
        async with self._lock:
            db = self.db
            if db.in_transaction:
                # Left open by a caller cancelled while its BEGIN was on the way.
                await db.execute("ROLLBACK")
            try:
                await db.execute("BEGIN IMMEDIATE")
                yield db
            except BaseException:
                if db.in_transaction:
                    await db.execute("ROLLBACK")
                raise
            await db.execute("COMMIT")

    async def _write(self, sql: str, params: Iterable[Any] = ()) -> int:
        """One statement as its own transaction; returns the rows it changed."""
        async with self._lock:
            cur = await self.db.execute(sql, tuple(params))
            return cur.rowcount

    async def _one(self, sql: str, params: Iterable[Any] = ()) -> aiosqlite.Row | None:
        async with self._lock:
            return await _fetchone(self.db, sql, params)

    # --- conversations and messages -------------------------------------------------
    async def record_inbound(
        self, sms: InboundSms, *, keyword: KeywordMark | None = None
    ) -> InboundRecord:
        return await self._inbound.submit((sms, keyword))

    async def _record_inbound_batch(
        self, batch: Sequence[tuple[InboundSms, KeywordMark | None]]
    ) -> list[InboundRecord]:
        """One transaction for many texts, in a fixed handful of statements whatever
        the batch size: what makes the webhook fast under load."""
        async with self._tx() as db:
            sids = [sms.sid for sms, _ in batch]
            known = {
                row["sid"]: _message(row)
                for row in await _fetchall(
                    db,
                    f"SELECT * FROM messages WHERE sid IN ({_marks(sids)})",  # noqa: S608
                    sids,
                )
            }
            fresh: dict[str, tuple[InboundSms, KeywordMark | None]] = {}
            for sms, keyword in batch:
                if sms.sid not in known:
                    fresh.setdefault(sms.sid, (sms, keyword))  # a repeat in the batch too
            conversations = await self._touch_conversations(
                db,
                [
                    (sms.channel, sms.business_number, sms.subscriber, sms.received_at)
                    for sms, _ in fresh.values()
                ],
            )
            created: dict[str, InboundRecord] = {}
            for sid, (sms, keyword) in fresh.items():
                conversation = conversations[(sms.channel, sms.business_number, sms.subscriber)]
                message = Message(
                    id=uuid.uuid4().hex,
                    conversation_id=conversation.id,
                    direction=Direction.INBOUND,
                    body=sms.body,
                    media=sms.media,
                    sid=sid,
                    created_at=sms.received_at,
                    keyword=keyword,
                )
                created[sid] = InboundRecord(
                    conversation=conversation, message=message, created=True
                )
            await db.executemany(
                "INSERT INTO messages (id, conversation_id, direction, body, media, sid,"
                " created_at, keyword) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        r.message.id,
                        r.message.conversation_id,
                        r.message.direction.value,
                        r.message.body,
                        json.dumps([m.model_dump() for m in r.message.media]),
                        r.message.sid,
                        _ts(r.message.created_at),
                        None if r.message.keyword is None else r.message.keyword.value,
                    )
                    for r in created.values()
                ],
            )
            await self._insert_jobs(
                [(post_job(r.message), _ts(r.message.created_at)) for r in created.values()]
            )
            known_ids = list({m.conversation_id for m in known.values()})
            conversations_of_known = {
                row["id"]: _conversation(row)
                for row in await _fetchall(
                    db,
                    f"SELECT * FROM conversations WHERE id IN ({_marks(known_ids)})",  # noqa: S608
                    known_ids,
                )
            }
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

    async def _touch_conversations(
        self, db: aiosqlite.Connection, texts: Sequence[tuple[Channel, str, str, datetime]]
    ) -> dict[tuple[str, str, str], Conversation]:
        """The conversations of these (channel, business number, subscriber, time) texts
        after them: known ones touched, new ones opened. A fixed three statements
        whatever the count, and never an upsert: SQLite's AUTOINCREMENT would use up a
        number on every text from a known subscriber, and agents type these numbers (#2)."""
        if not texts:
            return {}
        first: dict[tuple[str, str, str], float] = {}
        last: dict[tuple[str, str, str], float] = {}
        for channel, business, subscriber, at in texts:
            key, stamp = (channel.value, business, subscriber), _ts(at)
            first[key] = min(first.get(key, stamp), stamp)
            last[key] = max(last.get(key, stamp), stamp)
        rows = ", ".join("(?, ?, ?, ?, ?)" for _ in last)
        values = [v for key, at in last.items() for v in (*key, first[key], at)]
        # Placeholders only in these statements: no value is spliced into the SQL.
        await db.execute(
            f"UPDATE conversations SET last_activity_at = max(last_activity_at, v.column5),"  # noqa: S608
            " last_inbound_at = max(coalesce(last_inbound_at, v.column5), v.column5)"
            f" FROM (VALUES {rows}) AS v WHERE channel = v.column1"
            " AND business_number = v.column2 AND subscriber = v.column3",
            values,
        )
        await db.execute(
            "INSERT INTO conversations (channel, business_number, subscriber, created_at,"  # noqa: S608
            " last_activity_at, last_inbound_at)"
            " SELECT v.column1, v.column2, v.column3, v.column4, v.column5, v.column5"
            f" FROM (VALUES {rows}) AS v WHERE NOT EXISTS (SELECT 1 FROM conversations c"
            "  WHERE c.channel = v.column1 AND c.business_number = v.column2"
            "  AND c.subscriber = v.column3)",
            values,
        )
        triples = ", ".join("(?, ?, ?)" for _ in last)
        found = await _fetchall(
            db,
            "SELECT * FROM conversations"  # noqa: S608
            f" WHERE (channel, business_number, subscriber) IN (VALUES {triples})",
            [v for key in last for v in key],
        )
        return {
            (row["channel"], row["business_number"], row["subscriber"]): _conversation(row)
            for row in found
        }

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
                " ON CONFLICT (slack_channel, slack_ts) DO NOTHING",
                (
                    message.id,
                    message.conversation_id,
                    message.direction.value,
                    message.body,
                    _ts(now),
                    message.slack_channel,
                    message.slack_ts,
                    message.status.value,
                    message.author,
                    purpose.value,
                ),
            )
            if cur.rowcount == 0:
                existing = await _fetchone(
                    db,
                    "SELECT * FROM messages WHERE slack_channel = ? AND slack_ts = ?",
                    (reply.slack_channel, reply.slack_ts),
                )
                assert existing is not None
                return OutboundRecord(message=_message(existing), created=False)
            await db.execute(
                "UPDATE conversations SET last_activity_at = max(last_activity_at, ?) WHERE id = ?",
                (_ts(now), reply.conversation_id),
            )
            if send_at is not None:
                await self._enqueue(send_job(message), run_at=_ts(send_at))
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
            row = await _fetchone(db, "SELECT * FROM messages WHERE id = ?", (message_id,))
            assert row is not None
            message = _message(row)
            await self._enqueue(send_job(message), run_at=_ts(send_at))
        return message

    async def get_message_by_slack_ts(self, channel: str, ts: str) -> Message | None:
        row = await self._one(
            "SELECT * FROM messages WHERE slack_channel = ? AND slack_ts = ?", (channel, ts)
        )
        return None if row is None else _message(row)

    async def set_shown_ts(self, message_id: str, ts: str) -> None:
        await self._write("UPDATE messages SET shown_ts = ? WHERE id = ?", (ts, message_id))

    async def mark_media_posted(self, message_id: str) -> None:
        await self._write("UPDATE messages SET media_posted = 1 WHERE id = ?", (message_id,))

    async def get_message_by_sid(self, sid: str) -> Message | None:
        row = await self._one("SELECT * FROM messages WHERE sid = ?", (sid,))
        return None if row is None else _message(row)

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
            row = await _fetchone(db, "SELECT * FROM messages WHERE id = ?", (message_id,))
            if row is None:
                return None
            message = _message(row)
            if message.status is DeliveryStatus.SENDING:
                # Sending since before version 4 recorded it: its creation is the bound.
                began = _dt(row["send_began_at"]) or message.created_at
                return SendAttempt(message=message, resumed=True, began_at=began)
            if message.status is not DeliveryStatus.QUEUED:
                return None
            now = utcnow()
            await db.execute(
                "UPDATE messages SET status = 'sending', send_began_at = ? WHERE id = ?",
                (_ts(now), message_id),
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
            row = await _fetchone(db, "SELECT * FROM messages WHERE id = ?", (message_id,))
        if row is None:
            raise KeyError(message_id)
        return _message(row)

    async def update_delivery(
        self, sid: str, status: DeliveryStatus, error_code: int | None
    ) -> Message | None:
        async with self._tx() as db:
            # Only replies the bridge sent have delivery states; a callback naming an
            # inbound text's sid changes nothing.
            row = await _fetchone(
                db, "SELECT * FROM messages WHERE sid = ? AND direction = 'outbound'", (sid,)
            )
            if row is None:
                return None
            message = _message(row)
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
                    _ts(now),
                    message.status.value,
                    purpose.value,
                    author,
                    shown_ts,
                ),
            )
            if cur.rowcount == 0:
                return None
            await self._enqueue(send_job(message), run_at=_ts(now))
        return message

    # --- consent ------------------------------------------------------------------
    async def record_consent(self, events: Sequence[ConsentEvent]) -> int:
        async with self._tx() as db:
            added = 0
            for event in events:
                cur = await db.execute(
                    "INSERT INTO consent_events (channel, business_number, subscriber, kind,"
                    " granted, source, at, evidence, ref) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT (ref, kind) WHERE ref IS NOT NULL DO NOTHING",
                    (
                        event.channel.value,
                        event.business_number,
                        event.subscriber,
                        event.kind.value,
                        int(event.granted),
                        event.source.value,
                        _ts(event.at),
                        event.evidence,
                        event.ref,
                    ),
                )
                added += cur.rowcount
        return added

    async def consent_state(
        self, business_number: str, subscriber: str, channel: Channel = Channel.SMS
    ) -> ConsentState:
        latest: dict[str, aiosqlite.Row] = {}
        async with self._lock:
            for kind in ConsentKind:
                row = await _fetchone(
                    self.db,
                    "SELECT granted, at FROM consent_events WHERE channel = ?"
                    " AND business_number = ? AND subscriber = ? AND kind = ?"
                    " ORDER BY at DESC, id DESC LIMIT 1",
                    (channel.value, business_number, subscriber, kind.value),
                )
                if row is not None:
                    latest[kind.value] = row
        conversational = latest.get(ConsentKind.CONVERSATIONAL.value)
        marketing = latest.get(ConsentKind.MARKETING.value)
        allowed = conversational is None or bool(conversational["granted"])
        return ConsentState(
            conversational=allowed,
            marketing=marketing is not None and bool(marketing["granted"]),
            revoked_at=None if allowed or conversational is None else _dt(conversational["at"]),
        )

    async def consent_log(self) -> list[ConsentEvent]:
        async with self._lock:
            rows = await _fetchall(self.db, "SELECT * FROM consent_events ORDER BY at, id")
        return [
            ConsentEvent(
                channel=Channel(row["channel"]),
                business_number=row["business_number"],
                subscriber=row["subscriber"],
                kind=ConsentKind(row["kind"]),
                granted=bool(row["granted"]),
                source=ConsentSource(row["source"]),
                at=datetime.fromtimestamp(row["at"], UTC),
                evidence=row["evidence"],
                ref=row["ref"],
            )
            for row in rows
        ]

    async def get_conversation(self, conversation_id: int) -> Conversation | None:
        row = await self._one("SELECT * FROM conversations WHERE id = ?", (conversation_id,))
        return None if row is None else _conversation(row)

    async def find_conversation_by_thread(
        self, channel: str, thread_ts: str
    ) -> Conversation | None:
        row = await self._one(
            "SELECT * FROM conversations WHERE slack_channel = ? AND slack_thread_ts = ?",
            (channel, thread_ts),
        )
        return None if row is None else _conversation(row)

    async def find_conversation(
        self, business_number: str, subscriber: str, channel: Channel = Channel.SMS
    ) -> Conversation | None:
        row = await self._one(_BY_ADDRESSES, (channel.value, business_number, subscriber))
        return None if row is None else _conversation(row)

    async def open_conversation(
        self, business_number: str, subscriber: str, channel: Channel = Channel.SMS
    ) -> Conversation:
        key = (channel.value, business_number, subscriber)
        async with self._tx() as db:
            row = await _fetchone(db, _BY_ADDRESSES, key)
            if row is not None:
                return _conversation(row)
            at = utcnow()
            await db.execute(
                "INSERT INTO conversations (channel, business_number, subscriber, created_at,"
                " last_activity_at) VALUES (?, ?, ?, ?, ?)",
                (*key, _ts(at), _ts(at)),
            )
            row = await _fetchone(db, _BY_ADDRESSES, key)
        assert row is not None
        return _conversation(row)

    async def update_conversation(
        self, conversation_id: int, patch: ConversationPatch
    ) -> Conversation | None:
        changes = {name: _column(getattr(patch, name)) for name in patch.model_fields_set}
        values = list(changes.values())
        async with self._tx() as db:
            if changes:
                assignments = ", ".join(f"{name} = ?" for name in changes)  # model field names
                await db.execute(
                    f"UPDATE conversations SET {assignments} WHERE id = ?",  # noqa: S608
                    (*values, conversation_id),
                )
            row = await _fetchone(
                db, "SELECT * FROM conversations WHERE id = ?", (conversation_id,)
            )
        return None if row is None else _conversation(row)

    async def list_conversations(
        self, inbox: InboxFilter, *, user: str | None = None, limit: int = 50
    ) -> list[Conversation]:
        where = {
            InboxFilter.ALL: ("1", ()),
            InboxFilter.OPEN: ("status = 'open'", ()),
            InboxFilter.MINE: ("assignee = ? AND status = 'open'", (user,)),
            InboxFilter.UNASSIGNED: ("assignee IS NULL AND status = 'open'", ()),
            InboxFilter.FLAGGED: ("flagged = 1 AND status = 'open'", ()),
        }[inbox]
        async with self._lock:
            rows = await _fetchall(
                self.db,
                f"SELECT * FROM conversations WHERE {where[0]}"  # noqa: S608 - fixed fragments
                " ORDER BY last_activity_at DESC LIMIT ?",
                (*where[1], limit),
            )
        return [_conversation(row) for row in rows]

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
            (_ts(activity_at), conversation_id),
        )

    async def get_message(self, message_id: str) -> Message | None:
        row = await self._one("SELECT * FROM messages WHERE id = ?", (message_id,))
        return None if row is None else _message(row)

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
        async with self._tx() as db:
            await db.execute(*located)
            await db.execute(
                "UPDATE slack_posts SET ts = ? WHERE key = ? AND ts IS NULL", (ts, landing)
            )

    async def recent_messages(
        self, conversation_id: int, *, limit: int, until: datetime | None = None
    ) -> list[Message]:
        latest = math.inf if until is None else _ts(until)
        async with self._lock:
            rows = await _fetchall(
                self.db,
                "SELECT * FROM messages WHERE conversation_id = ? AND created_at <= ?"
                " ORDER BY created_at DESC, rowid DESC LIMIT ?",
                (conversation_id, latest, limit),
            )
        return [_message(row) for row in reversed(rows)]

    async def save_draft(
        self, message_id: str, draft: MessageDraft, *, intent: Intent, urgency: Urgency
    ) -> Message | None:
        async with self._tx() as db:
            await db.execute(
                "UPDATE messages SET draft = ?, intent = ?, urgency = ?"
                " WHERE id = ? AND draft IS NULL",
                (draft.model_dump_json(), intent, urgency, message_id),
            )
            row = await _fetchone(db, "SELECT * FROM messages WHERE id = ?", (message_id,))
        return None if row is None else _message(row)

    async def settle_draft(
        self,
        message_id: str,
        state: DraftState,
        *,
        by: str | None,
        at: datetime | None,
        expect: DraftState = DraftState.PROPOSED,
        sent_text: str | None = None,
        note: str | None = None,
    ) -> Message | None:
        async with self._tx() as db:
            row = await _fetchone(db, "SELECT * FROM messages WHERE id = ?", (message_id,))
            message = None if row is None else _message(row)
            if message is None or message.draft is None or message.draft.state is not expect:
                return None
            update: dict[str, object] = {
                "state": state,
                "settled_by": by,
                "settled_at": at,
                "sent_text": sent_text,
            }
            if note is not None:
                update["note"] = note
            draft = message.draft.model_copy(update=update)
            await db.execute(
                "UPDATE messages SET draft = ? WHERE id = ?", (draft.model_dump_json(), message_id)
            )
        return message.model_copy(update={"draft": draft})

    async def set_draft_slack_ts(self, message_id: str, ts: str) -> None:
        await self._write(
            "UPDATE messages SET draft = json_set(draft, '$.slack_ts', ?)"
            " WHERE id = ? AND draft IS NOT NULL",
            (ts, message_id),
        )

    async def add_usage(self, key: str, amount: int) -> int:
        async with self._tx() as db:
            row = await _fetchone(
                db,
                "INSERT INTO usage (key, amount) VALUES (?, ?) ON CONFLICT (key)"
                " DO UPDATE SET amount = amount + excluded.amount RETURNING amount",
                (key, amount),
            )
        assert row is not None
        return int(row["amount"])

    async def put_canned(self, name: str, text: str) -> None:
        await self._write(
            "INSERT INTO canned (name, text) VALUES (?, ?)"
            " ON CONFLICT (name) DO UPDATE SET text = excluded.text",
            (name, text),
        )

    async def delete_canned(self, name: str) -> bool:
        return await self._write("DELETE FROM canned WHERE name = ?", (name,)) == 1

    async def list_canned(self) -> dict[str, str]:
        async with self._lock:
            rows = await _fetchall(self.db, "SELECT name, text FROM canned ORDER BY name")
        return {name: text for name, text in rows}

    async def set_home_filter(self, user: str, inbox: InboxFilter) -> None:
        await self._write(
            "INSERT INTO home_viewers (user, filter) VALUES (?, ?)"
            " ON CONFLICT (user) DO UPDATE SET filter = excluded.filter",
            (user, inbox.value),
        )

    async def home_viewers(self) -> dict[str, InboxFilter]:
        async with self._lock:
            rows = await _fetchall(self.db, "SELECT user, filter FROM home_viewers")
        return {user: InboxFilter(f) for user, f in rows}

    async def get_contact(self, phone: str) -> Contact | None:
        row = await self._one("SELECT * FROM contacts WHERE phone = ?", (phone,))
        if row is None:
            return None
        return Contact(phone=row["phone"], name=row["name"], fields=json.loads(row["fields"]))

    async def put_contact(self, contact: Contact) -> None:
        await self._write(
            "INSERT INTO contacts (phone, name, fields) VALUES (?, ?, ?)"
            " ON CONFLICT (phone) DO UPDATE SET name = excluded.name, fields = excluded.fields",
            (contact.phone, contact.name, json.dumps(contact.fields)),
        )

    # --- posts into Slack ------------------------------------------------------------
    async def begin_post(
        self, key: str, channel: str, thread_ts: str | None, *, at: datetime, detail: str = ""
    ) -> PostAttempt:
        if _ts(at) - self._pruned_at >= POST_PRUNE_EVERY_SECONDS:
            self._pruned_at = _ts(at)
            await self._write(
                "DELETE FROM slack_posts WHERE started_at < ?", (_ts(at) - POST_RETENTION_SECONDS,)
            )
        # Every post begins here: concurrent posts share one transaction (one fsync).
        return await self._post_attempts.submit((key, channel, thread_ts, _ts(at), detail))

    async def _begin_post_batch(
        self, batch: Sequence[tuple[str, str, str | None, float, str]]
    ) -> list[PostAttempt]:
        attempts = []
        async with self._tx() as db:
            for row in batch:
                # A known key is returned as it stands.
                new = await _fetchone(
                    db,
                    "INSERT INTO slack_posts (key, channel, thread_ts, started_at, detail)"
                    " VALUES (?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING RETURNING *",
                    row,
                )
                known = new or await _fetchone(
                    db, "SELECT * FROM slack_posts WHERE key = ?", (row[0],)
                )
                assert known is not None  # inserted, or there, in this transaction
                attempts.append(PostAttempt(post=_post(known), resumed=new is None))
        return attempts

    async def land_post(self, key: str, ts: str) -> bool:
        changed = await self._write(
            "UPDATE slack_posts SET ts = ? WHERE key = ? AND ts IS NULL", (ts, key)
        )
        return changed == 1

    async def drop_post(self, key: str, *, started_at: datetime | None = None) -> None:
        at = None if started_at is None else _ts(started_at)
        await self._write(
            "DELETE FROM slack_posts"
            " WHERE key = ?1 AND ts IS NULL AND (?2 IS NULL OR started_at = ?2)",
            (key, at),
        )

    async def unsettled_posts(self, channel: str) -> list[SlackPost]:
        async with self._lock:
            rows = await _fetchall(
                self.db,
                "SELECT * FROM slack_posts WHERE channel = ? AND ts IS NULL ORDER BY started_at",
                (channel,),
            )
        return [_post(row) for row in rows]

    # --- the outbox -----------------------------------------------------------------
    async def enqueue(self, job: NewJob, *, run_at: datetime) -> None:
        async with self._tx():
            await self._enqueue(job, run_at=_ts(run_at))

    async def _enqueue(self, job: NewJob, *, run_at: float) -> None:
        # A running job is left alone and marked to run once more when this run ends,
        # so its lane still runs one job at a time.
        cur = await self.db.execute(
            "UPDATE jobs SET rerun = 1 WHERE key = ? AND state = 'running'", (job.key,)
        )
        if cur.rowcount:
            return
        await self.db.execute(
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

    async def _insert_jobs(self, jobs: Sequence[tuple[NewJob, float]]) -> None:
        """New jobs (fresh keys) at the tail of their lanes, in one statement."""
        if not jobs:
            return
        row = await _fetchone(self.db, "SELECT coalesce(max(seq), 0) FROM jobs")
        base = int(row[0]) if row else 0
        await self.db.executemany(
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

    async def claim_jobs(
        self, owner: str, *, now: datetime, limit: int, lease_seconds: float
    ) -> list[Job]:
        at = _ts(now)
        token = f"{owner}:{uuid.uuid4().hex}"
        async with self._tx() as db:
            # A running job is always the head of its lane, so an expired one is
            # claimable as it is. Pending ones are walked in enqueue order (a partial
            # index), each checked to be its lane's head; the walk stops at `limit`.
            rows = await _fetchall(
                db,
                "SELECT * FROM jobs INDEXED BY jobs_leases"
                " WHERE state = 'running' AND lease_until <= ? ORDER BY seq LIMIT ?",
                (at, limit),
            )
            rows += await _fetchall(
                db,
                """
                SELECT * FROM jobs j INDEXED BY jobs_pending
                WHERE j.state = 'pending' AND j.run_at <= ?
                  AND NOT EXISTS (SELECT 1 FROM jobs k
                                  WHERE k.lane = j.lane AND k.state IN ('pending', 'running')
                                    AND k.seq < j.seq)
                ORDER BY j.seq LIMIT ?
                """,
                (at, limit - len(rows)),
            )
            await db.executemany(
                "UPDATE jobs SET state = 'running', lease_token = ?, lease_until = ?,"
                " attempts = attempts + 1 WHERE key = ?",
                [(token, at + lease_seconds, row["key"]) for row in rows],
            )
        return [_job(row, token) for row in rows]

    async def extend_lease(self, job: Job, *, until: datetime) -> bool:
        changed = await self._write(
            "UPDATE jobs SET lease_until = ? WHERE key = ? AND lease_token = ?",
            (_ts(until), job.key, job.lease_token),
        )
        return changed == 1

    async def complete_job(self, job: Job) -> bool:
        async with self._tx() as db:
            cur = await db.execute(
                "DELETE FROM jobs WHERE key = ? AND lease_token = ? AND rerun = 0",
                (job.key, job.lease_token),
            )
            if cur.rowcount == 1:
                return True
            # Enqueued again while it ran: due again now, at the tail of its lane.
            await db.execute(
                "UPDATE jobs SET state = 'pending', rerun = 0, attempts = 0,"
                " seq = (SELECT max(seq) + 1 FROM jobs), lease_token = NULL, lease_until = NULL"
                " WHERE key = ? AND lease_token = ?",
                (job.key, job.lease_token),
            )
            return False

    async def retry_job(
        self, job: Job, *, run_at: datetime, error: str, counted: bool = True
    ) -> bool:
        return (
            await self._write(
                "UPDATE jobs SET state = 'pending', run_at = ?, last_error = ?, rerun = 0,"
                " attempts = attempts - ?, lease_token = NULL, lease_until = NULL"
                " WHERE key = ? AND lease_token = ?",
                (_ts(run_at), error, 0 if counted else 1, job.key, job.lease_token),
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
        async with self._lock:
            rows = await _fetchall(
                self.db,
                "SELECT CASE WHEN state = 'dead' THEN 'dead' ELSE kind END, count(*)"
                " FROM jobs GROUP BY 1",
            )
        return {name: count for name, count in rows}
