"""Who looks at their App Home inbox, with which filter."""

from __future__ import annotations

from bridge.models import InboxFilter
from bridge.store.sqlite.connection import SQLiteConnection


class HomeFilterRows(SQLiteConnection):
    """HomeFilterStore on SQLite."""

    async def set_home_filter(self, user: str, inbox: InboxFilter) -> None:
        await self._write(
            "INSERT INTO home_viewers (user, filter) VALUES (?, ?)"
            " ON CONFLICT (user) DO UPDATE SET filter = excluded.filter",
            (user, inbox.value),
        )

    async def home_viewers(self) -> dict[str, InboxFilter]:
        found = await self._all("SELECT user, filter FROM home_viewers")
        return {user: InboxFilter(f) for user, f in found}
