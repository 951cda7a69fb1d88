"""The processes' turns at writing one SQLite file: an exclusive `flock` on a side file,
held around every write transaction of the bridge's processes.

SQLite's own wait for its write lock is a busy handler that sleeps 1, 2, 5 … 100 ms
between tries, so a waiting process sleeps through most of the time the lock is free:
two processes at full intake spent half their time there (py-spy: `usleep` under
BEGIN IMMEDIATE) and used one core between them. A process waiting on the flock is
woken the moment the holder lets go. SQLite's lock still guards the file: a writer
that takes no turn (another program, the sqlite3 shell) is waited for by the busy
timeout, as before. The kernel drops a killed process's flock."""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

SUFFIX = "-turns"  # beside SQLite's own "-wal" and "-shm"


class WriterTurns:
    def __init__(self, database: str | Path) -> None:
        self._path = f"{database}{SUFFIX}"
        self._fd: int | None = None

    def open(self) -> None:
        # A folder that takes no new file takes no writes either: nothing to order.
        with contextlib.suppress(OSError):
            self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)

    def take(self) -> None:
        """Wait for this process's turn (on the database thread: the wait blocks)."""
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_EX)

    def give(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
