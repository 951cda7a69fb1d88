"""Posts into Slack, recorded before they are made."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection

from bridge.models import (
    PostAttempt,
    SlackPost,
)
from bridge.store.mongo import documents
from bridge.store.mongo.connection import MongoConnection
from bridge.store.mongo.documents import Doc


async def land(posts: AsyncCollection[Any], key: str, ts: str) -> bool:
    """The post `key` landed as `ts`, unless it had landed (the first ts stays)."""
    result = await posts.update_one({"_id": key, "ts": None}, {"$set": {"ts": ts}})
    return bool(result.matched_count == 1)


class PostDocuments(MongoConnection):
    """PostStore on MongoDB."""

    async def begin_post(
        self, key: str, channel: str, thread_ts: str | None, *, at: datetime, detail: str = ""
    ) -> PostAttempt:
        fresh: Doc = {
            "channel": channel,
            "thread_ts": thread_ts,
            "started_at": documents.ms(at),
            "ts": None,
            "detail": detail,
        }
        before: Doc | None = await self._posts.find_one_and_update(
            {"_id": key},
            {"$setOnInsert": fresh},
            upsert=True,
            return_document=ReturnDocument.BEFORE,
        )
        if before is None:
            return PostAttempt(post=documents.post({"_id": key, **fresh}), resumed=False)
        return PostAttempt(post=documents.post(before), resumed=True)

    async def land_post(self, key: str, ts: str) -> bool:
        return await land(self._posts, key, ts)

    async def drop_post(self, key: str, *, started_at: datetime | None = None) -> None:
        match: Doc = {"_id": key, "ts": None}
        if started_at is not None:
            match["started_at"] = documents.ms(started_at)
        await self._posts.delete_one(match)

    async def unsettled_posts(self, channel: str) -> list[SlackPost]:
        cursor = self._posts.find(
            {"channel": channel, "ts": None}, sort=[("started_at", ASCENDING)]
        )
        return [documents.post(doc) async for doc in cursor]

    async def landed_post(self, channel: str, ts: str) -> SlackPost | None:
        found: Doc | None = await self._posts.find_one({"channel": channel, "ts": ts})
        return documents.post(found) if found else None
