"""Named counters shared by every process."""

from __future__ import annotations

from pymongo import ReturnDocument

from bridge.store.mongo.connection import MongoConnection
from bridge.store.mongo.documents import Doc


class UsageDocuments(MongoConnection):
    """UsageStore on MongoDB."""

    async def add_usage(self, key: str, amount: int) -> int:
        doc: Doc | None = await self._coll("usage").find_one_and_update(
            {"_id": key},
            {"$inc": {"amount": amount}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        assert doc is not None  # upserted
        return int(doc["amount"])
