"""Each person's notification preferences."""

from __future__ import annotations

from bridge.models import NotifyPreferences
from bridge.store.mongo.connection import MongoConnection


class PreferenceDocuments(MongoConnection):
    """PreferenceStore on MongoDB."""

    async def notify_preferences(self, user: str) -> NotifyPreferences:
        doc = await self._preferences.find_one({"_id": user})
        if doc is None:
            return NotifyPreferences()
        return NotifyPreferences.model_validate(doc["preferences"])

    async def set_notify_preferences(self, user: str, preferences: NotifyPreferences) -> None:
        await self._preferences.replace_one(
            {"_id": user}, {"preferences": preferences.model_dump(mode="json")}, upsert=True
        )
