"""The first-response timer: the text a conversation waits with, and breaches, one
document per wait ({_id: the wait's first text, conversation_id, deadline, follow?})."""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from bridge.events import SlaBreached
from bridge.models import DeliveryStatus, Direction, KeywordMark, Message, utcnow
from bridge.store import effects
from bridge.store.mongo import documents
from bridge.store.mongo.connection import MongoConnection
from bridge.store.mongo.documents import Doc

# Keywords are no question to answer; replies in these states did not answer.
_KEYWORDS = [mark.value for mark in KeywordMark if mark.replaces_post]
_UNSENT = [
    status.value
    for status in (DeliveryStatus.HELD, DeliveryStatus.CANCELLED, DeliveryStatus.BLOCKED)
]


class SlaDocuments(MongoConnection):
    """SlaStore on MongoDB."""

    @property
    def _breaches(self) -> AsyncCollection[Any]:
        return self._coll("sla_breaches")

    async def waiting_since(self, conversation_id: int) -> Message | None:
        answered: Doc | None = await self._messages.find_one(
            {
                "conversation_id": conversation_id,
                "direction": Direction.OUTBOUND.value,
                "author": {"$ne": None},
                "status": {"$nin": _UNSENT},
            },
            sort=[("created_at", DESCENDING)],
            projection={"created_at": True},
        )
        query: Doc = {
            "conversation_id": conversation_id,
            "direction": Direction.INBOUND.value,
            "keyword": {"$nin": _KEYWORDS},
        }
        if answered is not None:
            query["created_at"] = {"$gt": answered["created_at"]}
        doc: Doc | None = await self._messages.find_one(query, sort=[("created_at", ASCENDING)])
        return None if doc is None else documents.message(doc)

    async def record_breach(self, breach: SlaBreached) -> bool:
        jobs = effects.after_breach(breach, publishing=self.publishing)
        # The durable write: the breach with its jobs inside, stored once they are.
        durable: Doc = {
            "_id": breach.message_id,
            "conversation_id": breach.conversation_id,
            "deadline": documents.ms(breach.deadline),
            "follow": await self._job_docs(jobs, run_at=documents.ms(utcnow())),
        }
        try:
            await self._breaches.insert_one(durable)
            recorded = True
        except DuplicateKeyError:
            found: Doc | None = await self._breaches.find_one({"_id": breach.message_id})
            if found is None:
                raise
            durable, recorded = found, False  # a crash may have kept its jobs from the outbox
        if durable.get("follow"):
            await self._insert_jobs(durable["follow"])
            await self._breaches.update_one({"_id": durable["_id"]}, {"$unset": {"follow": ""}})
        return recorded
