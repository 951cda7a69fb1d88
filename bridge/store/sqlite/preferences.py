"""Each person's notification preferences."""

from __future__ import annotations

from bridge.models import NotifyPreferences
from bridge.store.sqlite.connection import SQLiteConnection


class PreferenceRows(SQLiteConnection):
    """PreferenceStore on SQLite."""

    async def notify_preferences(self, user: str) -> NotifyPreferences:
        row = await self._one("SELECT preferences FROM notify_preferences WHERE user = ?", (user,))
        if row is None:
            return NotifyPreferences()
        return NotifyPreferences.model_validate_json(row["preferences"])

    async def set_notify_preferences(self, user: str, preferences: NotifyPreferences) -> None:
        await self._write(
            "INSERT INTO notify_preferences (user, preferences) VALUES (?, ?)"
            " ON CONFLICT (user) DO UPDATE SET preferences = excluded.preferences",
            (user, preferences.model_dump_json()),
        )
