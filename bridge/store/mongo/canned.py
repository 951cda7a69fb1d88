"""Canned responses by name."""

from __future__ import annotations

from pymongo import ASCENDING

from bridge.store.mongo.connection import MongoConnection


class CannedDocuments(MongoConnection):
    """CannedStore on MongoDB."""

    async def put_canned(self, name: str, text: str) -> None:
        await self._canned.replace_one({"_id": name}, {"text": text}, upsert=True)

    async def delete_canned(self, name: str) -> bool:
        result = await self._canned.delete_one({"_id": name})
        return result.deleted_count == 1

    async def list_canned(self) -> dict[str, str]:
        # Binary order of the UTF-8 names (no collation), as SQLite's.
        cursor = self._canned.find({}, sort=[("_id", ASCENDING)])
        return {doc["_id"]: doc["text"] async for doc in cursor}
