"""The connection to the SQLite file: opening and migrating it, one effect as one
transaction, and whether the file takes writes."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar, cast

import aiosqlite

from bridge.events import Publishing
from bridge.models import utcnow
from bridge.store.base import StoreUnavailable
from bridge.store.health import WriteHealth
from bridge.store.sqlite import rows
from bridge.store.sqlite.schema import MIGRATIONS
from bridge.store.sqlite.turns import WriterTurns

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


T = TypeVar("T")

BUSY_MS = 5000  # how long a statement waits for another connection's lock
WAL_RETRY_MS = 50


class SQLiteConnection:
    """The one connection in WAL mode, its lock and its health: what every role uses."""

    def __init__(self, path: str | Path, *, probe_seconds: float = 2.0) -> None:
        self._path = str(path)
        self._folder = Path(path).absolute().parent
        self._db: aiosqlite.Connection | None = None
        # One connection: the lock keeps each effect's statements together, so no
        # statement of another effect lands inside an open transaction.
        self._lock = asyncio.Lock()
        self.publishing = Publishing()  # until the notifiers are known (see base.py)
        self.first_response_minutes: int | None = None  # no SLA timer until set at start
        self._health = WriteHealth(self._refusal, self._probe, interval=probe_seconds)
        self._turns = WriterTurns(self._path)

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
        await asyncio.to_thread(self._turns.open)
        # isolation_level=None: we issue BEGIN ourselves, so one effect = one transaction.
        self._db = await aiosqlite.connect(self._path, isolation_level=None)
        self._db.row_factory = aiosqlite.Row
        # First: another process may hold the file (switching it to WAL, migrating).
        await self._db.execute(f"PRAGMA busy_timeout = {BUSY_MS}")
        await self._to_wal()
        # fsync at every commit: an acknowledged text survives power loss too. Group
        # commit keeps that to one fsync for many webhooks.
        await self._db.execute("PRAGMA synchronous = FULL")
        # Off while migrating: a migration may rebuild a table others refer to (SQLite's
        # documented way to change a constraint).
        await migrate(self._db)
        await self._db.execute("PRAGMA foreign_keys = ON")

    async def _to_wal(self) -> None:
        """WAL mode, also while other processes open the same new file: SQLite answers
        a switch that meets another's lock with "locked" at once, not after the busy
        timeout, so it is tried again for as long as that timeout."""
        for _ in range(BUSY_MS // WAL_RETRY_MS):
            try:
                await self.db.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc):
                    raise
            await asyncio.sleep(WAL_RETRY_MS / 1000)
        await self.db.execute("PRAGMA journal_mode = WAL")  # the last try says why

    async def close(self) -> None:
        await self._health.close()
        if self._db is not None:
            await self._db.close()
            self._db = None
        self._turns.close()

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
            (rows.ts(utcnow()),),
        )

    @asynccontextmanager
    async def _tx(self) -> AsyncIterator[aiosqlite.Connection]:
        # IMMEDIATE takes the write lock up front, keeping other processes' writers out.
        async with self._lock:
            db = self.db
            try:
                await on_thread(db, _begin, self._turns)
            except asyncio.CancelledError:
                # The thread begins all the same: end it there, next, or the turn stays.
                await asyncio.shield(on_thread(db, _end, self._turns, "ROLLBACK"))
                raise
            try:
                yield db
            except BaseException:
                await on_thread(db, _end, self._turns, "ROLLBACK")
                raise
            await on_thread(db, _end, self._turns, "COMMIT")

    async def _trip(self, work: Callable[..., T], *args: Any) -> T:
        """`work(connection, *args)` in one trip to the database thread, which runs
        trips in the order they are queued. So a trip waits for the lock only while a
        `_tx` holds the connection between its trips; otherwise it is queued at once,
        and the thread goes on from one trip to the next by itself. Taking the lock in
        turn cost every trip a turn of the event loop (milliseconds under load) while
        the thread, and with it the file's write turn, waited."""
        if self._lock.locked():
            async with self._lock:
                return await on_thread(self.db, work, *args)
        return await on_thread(self.db, work, *args)

    async def _transaction(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """`work` (statements only, no awaits) as one transaction, in one trip to the
        database thread: each trip costs the event loop about 0.1 ms of CPU, where a
        `_tx` takes one per statement, BEGIN and COMMIT included. For the effects of
        every text: its group commit, its jobs' enqueue, claim and completion, its draft,
        its post's beginning and landing."""
        return await self._trip(_in_transaction, self._turns, work)

    async def _write(self, sql: str, params: Iterable[Any] = ()) -> int:
        """One statement as its own transaction; returns the rows it changed."""
        return await self._trip(_in_transaction, self._turns, _rowcount(sql, params))

    async def _one(self, sql: str, params: Iterable[Any] = ()) -> aiosqlite.Row | None:
        """The one row of a read by key (or with LIMIT 1)."""
        return await self._trip(rows.one, sql, params)

    async def _all(self, sql: str, params: Iterable[Any] = ()) -> list[aiosqlite.Row]:
        return await self._trip(rows.every, sql, params)


def statements(script: str) -> list[str]:
    """A migration's statements, one by one (a trigger's body is part of its own)."""
    found: list[str] = []
    start = 0
    for end, char in enumerate(script):
        if char == ";" and sqlite3.complete_statement(script[start : end + 1]):
            if script[start:end].strip():
                found.append(script[start : end + 1].strip())
            start = end + 1
    if script[start:].strip():
        found.append(script[start:].strip())
    return found


async def migrate(db: aiosqlite.Connection) -> None:
    """Apply the migrations the file has not had yet, each in its own transaction. The
    version is read under the write lock: processes that open a new file at once take
    turns (SQLite's busy timeout), and each finds what those before it applied."""
    while True:
        await db.execute("BEGIN IMMEDIATE")
        try:
            async with db.execute("PRAGMA user_version") as cur:
                row = await cur.fetchone()
            version = row[0] if row else 0
            if version < len(MIGRATIONS):
                for statement in statements(MIGRATIONS[version]):
                    await db.execute(statement)
                await db.execute(f"PRAGMA user_version = {version + 1}")
        except BaseException:
            await db.execute("ROLLBACK")
            raise
        await db.execute("COMMIT")
        if version >= len(MIGRATIONS):
            return


async def on_thread(
    db: aiosqlite.Connection, work: Callable[..., T], *args: Any, **kwargs: Any
) -> T:
    """`work(connection, *args, **kwargs)` on the database thread, in one trip (inside
    whatever transaction the caller holds open)."""
    # aiosqlite runs a function on its thread only through this (private) door.
    run = cast(Callable[..., Awaitable[T]], db._execute)
    return await run(work, db._conn, *args, **kwargs)


def _begin(conn: sqlite3.Connection, turns: WriterTurns) -> None:
    """On the database thread: this process's turn, then BEGIN IMMEDIATE."""
    if conn.in_transaction:  # left open by a `_tx` whose caller was cancelled
        _end(conn, turns, "ROLLBACK")
    turns.take()
    try:
        conn.execute("BEGIN IMMEDIATE")
    except BaseException:
        turns.give()
        raise


def _end(conn: sqlite3.Connection, turns: WriterTurns, how: str) -> None:
    """On the database thread: COMMIT or ROLLBACK, then the turn goes to the next. A
    COMMIT that fails (a deferred constraint, a full disk) is rolled back first: the
    file's write lock goes with the turn."""
    try:
        if how == "COMMIT" or conn.in_transaction:
            conn.execute(how)
    finally:
        try:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
        finally:
            turns.give()


def _in_transaction(
    conn: sqlite3.Connection, turns: WriterTurns, work: Callable[[sqlite3.Connection], T]
) -> T:
    """On the database thread: `work` between BEGIN IMMEDIATE and COMMIT (as `_tx`)."""
    _begin(conn, turns)
    try:
        result = work(conn)
    except BaseException:
        _end(conn, turns, "ROLLBACK")
        raise
    _end(conn, turns, "COMMIT")
    return result


def _rowcount(sql: str, params: Iterable[Any]) -> Callable[[sqlite3.Connection], int]:
    return lambda conn: conn.execute(sql, tuple(params)).rowcount
