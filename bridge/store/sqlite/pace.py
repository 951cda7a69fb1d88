"""Pacing shared by the processes on one SQLite file (GCRA): each reservation is one
statement, so the write lock orders them. The clock is the wall clock: processes
sharing a file share a host."""

from __future__ import annotations

import sqlite3
import time

from bridge.models import PaceTurn
from bridge.store.sqlite import rows
from bridge.store.sqlite.connection import SQLiteConnection

# Parameters: ?1 the key, ?2 now, ?3 the interval, ?4 the tolerance, ?5 within.
# The caller's earliest turn is `max(tat, now) - tolerance`; it is taken when no
# further off than `within`, else booked after the last booking. Every right-hand side
# reads the row as it was; RETURNING reads it as it now is.
_RESERVE = """
INSERT INTO pace (key, tat, turn, taken) VALUES (?1, ?2 + ?3, ?2, 1)
ON CONFLICT (key) DO UPDATE SET
    taken = max(tat, ?2) - ?4 - ?2 <= ?5,
    turn = CASE WHEN max(tat, ?2) - ?4 - ?2 <= ?5 THEN max(?2, max(tat, ?2) - ?4)
        ELSE max(max(tat, ?2) - ?4, booked + ?3) END,
    booked = CASE WHEN max(tat, ?2) - ?4 - ?2 <= ?5 THEN booked
        ELSE max(max(tat, ?2) - ?4, booked + ?3) END,
    tat = CASE WHEN max(tat, ?2) - ?4 - ?2 <= ?5 THEN max(tat, ?2) + ?3 ELSE tat END
RETURNING taken, max(0, turn - ?2) AS wait, max(0, tat - ?4 - ?2) AS free_in,
    max(0, held_until - ?2) AS held_for
"""

# Parameters: ?1 the key, ?2 when the hold ends, ?3 the tolerance.
_HOLD = """
INSERT INTO pace (key, tat, held_until) VALUES (?1, ?2 + ?3, ?2)
ON CONFLICT (key) DO UPDATE SET held_until = max(held_until, ?2), tat = max(tat, ?2 + ?3)
"""


class PaceRows(SQLiteConnection):
    """PaceStore on SQLite."""

    async def reserve_pace(
        self, key: str, *, interval: float, tolerance: float, within: float
    ) -> PaceTurn:
        def reserve(db: sqlite3.Connection) -> sqlite3.Row | None:
            # The clock is read in the writer's turn: the reservation is against now.
            return rows.one(db, _RESERVE, (key, time.time(), interval, tolerance, within))

        row = await self._transaction(reserve)
        assert row is not None  # an upsert returns its row
        return PaceTurn(
            taken=bool(row["taken"]),
            wait=row["wait"],
            free_in=row["free_in"],
            held_for=row["held_for"],
        )

    async def hold_pace(self, key: str, *, seconds: float, tolerance: float) -> None:
        await self._write(_HOLD, (key, time.time() + seconds, tolerance))

    async def pace_held(self, key: str) -> float:
        row = await self._one(
            "SELECT max(0, held_until - ?1) AS held_for FROM pace WHERE key = ?2",
            (time.time(), key),
        )
        return 0.0 if row is None else float(row["held_for"])
