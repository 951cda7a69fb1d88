"""Processes on one SQLite file take turns at writing (bridge/store/sqlite/turns.py): a
waiting process is woken when the writer before it is done, not at its next busy-handler
sleep; a cancelled or failed transaction gives its turn back. Within a process, the
database thread goes from one queued write to the next by itself."""

from __future__ import annotations

import asyncio
import fcntl
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from bridge.models import JobKind, NewJob, utcnow
from bridge.store.sqlite import SQLiteStore
from bridge.store.sqlite.turns import SUFFIX

WAIT = 1.0  # long enough for a write that does not wait to have finished many times


@contextmanager
def turn_of_another_process(database: Path) -> Iterator[int]:
    """Holds the writers' turn as another process would (an flock of its own)."""
    fd = os.open(f"{database}{SUFFIX}", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        yield fd
    finally:
        os.close(fd)


def turn_is_free(database: Path) -> bool:
    fd = os.open(f"{database}{SUFFIX}", os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)
    return True


def job(key: str) -> NewJob:
    return NewJob(key=key, kind=JobKind.POST_INBOUND, lane=f"lane-{key}")


async def test_a_write_waits_for_its_turn_and_goes_when_it_comes(tmp_path: Path) -> None:
    path = tmp_path / "turns.db"
    store = SQLiteStore(path)
    await store.open()
    try:
        with turn_of_another_process(path):
            write = asyncio.create_task(store.enqueue(job("a"), run_at=utcnow()))
            done, _ = await asyncio.wait({write}, timeout=WAIT)
            assert not done  # the other process is writing
        await write  # its turn came when the other let go
        [claimed] = await store.claim_jobs("w", now=utcnow(), limit=8, lease_seconds=30)
        assert claimed.key == "a"
        assert turn_is_free(path)
    finally:
        await store.close()


async def test_a_transaction_cancelled_while_it_waits_gives_its_turn_back(
    tmp_path: Path,
) -> None:
    path = tmp_path / "turns.db"
    store = SQLiteStore(path)
    await store.open()
    try:
        with turn_of_another_process(path):
            opening = asyncio.create_task(store.open_conversation("+15550000001", "+15550000002"))
            done, _ = await asyncio.wait({opening}, timeout=WAIT)
            assert not done
            opening.cancel()
            # The database thread still waits for the turn, then begins: cancelled, the
            # caller must not leave it holding the turn.
        with pytest.raises(asyncio.CancelledError):
            await opening
        await store.get_conversation(1)  # after what the thread had queued
        assert turn_is_free(path)
        await store.enqueue(job("b"), run_at=utcnow())  # and the store writes on
    finally:
        await store.close()


async def test_a_commit_that_fails_is_rolled_back_and_gives_its_turn_back(
    tmp_path: Path,
) -> None:
    """A deferred constraint fails at COMMIT, and SQLite keeps the transaction open: the
    write lock must not stay with a process whose turn is over."""
    path = tmp_path / "turns.db"
    store = SQLiteStore(path)
    await store.open()
    try:
        async with store._tx() as db:
            await db.execute("CREATE TABLE parents (id INTEGER PRIMARY KEY)")
            await db.execute(
                "CREATE TABLE children (parent REFERENCES parents (id)"
                " DEFERRABLE INITIALLY DEFERRED)"
            )
        with pytest.raises(sqlite3.IntegrityError):
            async with store._tx() as db:
                await db.execute("INSERT INTO children (parent) VALUES (7)")
        assert turn_is_free(path)
        other = sqlite3.connect(path, isolation_level=None, timeout=0)
        try:
            other.execute("BEGIN IMMEDIATE")  # the file's write lock is free too
            other.execute("ROLLBACK")
        finally:
            other.close()
        await store.enqueue(job("c"), run_at=utcnow())
    finally:
        await store.close()


async def test_a_pace_reservation_waits_for_its_turn(tmp_path: Path) -> None:
    """A reservation is a write: outside the turns it would wait in SQLite's busy
    handler, on the database thread, with every other write of its process behind it."""
    path = tmp_path / "turns.db"
    store = SQLiteStore(path)
    await store.open()
    try:
        with turn_of_another_process(path):
            reserving = asyncio.create_task(
                store.reserve_pace("slack:C1", interval=1.0, tolerance=0.0, within=0.0)
            )
            done, _ = await asyncio.wait({reserving}, timeout=WAIT)
            assert not done  # the other process is writing
        assert (await reserving).taken
        assert turn_is_free(path)
    finally:
        await store.close()


async def test_queued_writes_run_one_after_another_without_the_event_loop(
    tmp_path: Path,
) -> None:
    """Under load the event loop is busy for milliseconds at a time: a write queued
    behind another starts when the thread is free, not when the loop next gets to it."""
    store = SQLiteStore(tmp_path / "turns.db")
    await store.open()
    go, ran = threading.Event(), threading.Event()

    def first(db: sqlite3.Connection) -> None:
        go.wait(WAIT * 5)

    def second(db: sqlite3.Connection) -> None:
        ran.set()

    try:
        writes = [
            asyncio.create_task(store._transaction(first)),
            asyncio.create_task(store._transaction(second)),
        ]
        for _ in range(3):  # both calls reach the database thread's queue
            await asyncio.sleep(0)
        go.set()
        # The loop is held here: only the thread itself can go on to the second write.
        assert ran.wait(WAIT * 5)
        await asyncio.gather(*writes)
    finally:
        await store.close()


async def test_a_write_asked_for_during_a_multi_step_transaction_waits_outside_it(
    tmp_path: Path,
) -> None:
    store = SQLiteStore(tmp_path / "turns.db")
    await store.open()
    writes: list[asyncio.Task[None]] = []

    async def change_of_mind() -> None:
        async with store._tx() as db:
            await db.execute("INSERT INTO write_probes (id, at) VALUES (7, 0)")
            writes.append(asyncio.create_task(store.enqueue(job("e"), run_at=utcnow())))
            done, _ = await asyncio.wait(writes, timeout=WAIT / 5)
            assert not done
            raise RuntimeError("changed its mind")

    try:
        with pytest.raises(RuntimeError, match="changed its mind"):
            await change_of_mind()
        await writes[0]
        assert await store._one("SELECT * FROM write_probes WHERE id = 7") is None
        [claimed] = await store.claim_jobs("w", now=utcnow(), limit=8, lease_seconds=30)
        assert claimed.key == "e"
    finally:
        await store.close()
