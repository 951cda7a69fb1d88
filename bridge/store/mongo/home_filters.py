"""Who looks at their App Home inbox, with which filter."""

from __future__ import annotations

from bridge.models import InboxFilter
from bridge.store.mongo.connection import MongoConnection


class HomeFilterDocuments(MongoConnection):
    """HomeFilterStore on MongoDB."""

    async def set_home_filter(self, user: str, inbox: InboxFilter) -> None:
        await self._home_viewers.replace_one({"_id": user}, {"filter": inbox.value}, upsert=True)

    async def home_viewers(self) -> dict[str, InboxFilter]:
        cursor = self._home_viewers.find({})
        return {doc["_id"]: InboxFilter(doc["filter"]) async for doc in cursor}
