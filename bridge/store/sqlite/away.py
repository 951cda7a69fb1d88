"""The away switch: one row, or none."""

from __future__ import annotations

from bridge.models import Away
from bridge.store.sqlite import rows
from bridge.store.sqlite.connection import SQLiteConnection


class AwayRows(SQLiteConnection):
    """AwayStore on SQLite."""

    async def set_away(self, away: Away | None) -> None:
        if away is None:
            await self._write("DELETE FROM away", ())
            return
        until = None if away.until is None else rows.ts(away.until)
        await self._write(
            "INSERT INTO away (id, since, until, by) VALUES (1, ?, ?, ?) ON CONFLICT (id)"
            " DO UPDATE SET since = excluded.since, until = excluded.until, by = excluded.by",
            (rows.ts(away.since), until, away.by),
        )

    async def away(self) -> Away | None:
        row = await self._one("SELECT since, until, by FROM away")
        if row is None:
            return None
        since = rows.dt(row["since"])
        assert since is not None
        return Away(since=since, until=rows.dt(row["until"]), by=row["by"])
