"""Named counters shared by every process."""

from __future__ import annotations

from bridge.store.sqlite import rows
from bridge.store.sqlite.connection import SQLiteConnection


class UsageRows(SQLiteConnection):
    """UsageStore on SQLite."""

    async def add_usage(self, key: str, amount: int) -> int:
        async with self._tx() as db:
            row = await rows.fetchone(
                db,
                "INSERT INTO usage (key, amount) VALUES (?, ?) ON CONFLICT (key)"
                " DO UPDATE SET amount = amount + excluded.amount RETURNING amount",
                (key, amount),
            )
        assert row is not None
        return int(row["amount"])
