"""The away switch: one document, or none."""

from __future__ import annotations

from bridge.models import Away
from bridge.store.mongo.connection import MongoConnection
from bridge.store.mongo.documents import aware, aware_or_none, ms

_ID = "away"


class AwayDocuments(MongoConnection):
    """AwayStore on MongoDB."""

    async def set_away(self, away: Away | None) -> None:
        if away is None:
            await self._away.delete_one({"_id": _ID})
            return
        until = None if away.until is None else ms(away.until)
        doc = {"since": ms(away.since), "until": until, "by": away.by}
        await self._away.replace_one({"_id": _ID}, doc, upsert=True)

    async def away(self) -> Away | None:
        doc = await self._away.find_one({"_id": _ID})
        if doc is None:
            return None
        return Away(since=aware(doc["since"]), until=aware_or_none(doc["until"]), by=doc["by"])
