"""Ratings across rating requests (the feedback report), a subscriber's counted answer,
and each subscriber's last review request ({_id: "business subscriber", key, at})."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from bridge.campaigns.models import Answer
from bridge.store.mongo import documents
from bridge.store.mongo.answers import answer_of
from bridge.store.mongo.connection import MongoConnection
from bridge.store.mongo.documents import Doc


class FeedbackDocuments(MongoConnection):
    """FeedbackStore on MongoDB."""

    @property
    def _reviews(self) -> AsyncCollection[Any]:
        return self._coll("review_requests")

    async def ratings_since(self, since: datetime) -> list[Answer]:
        found: list[Doc] = (
            await self._coll("campaign_answers")
            .find(
                {"at": {"$gte": documents.ms(since)}},
                sort=[("at", ASCENDING), ("subscriber", ASCENDING)],
            )
            .to_list(None)
        )
        ids = list({doc["campaign_id"] for doc in found})
        rating_requests = {
            doc["_id"]
            async for doc in self._coll("campaigns").find(
                {"_id": {"$in": ids}, "spec.feedback": {"$ne": None}}, projection={"_id": 1}
            )
        }
        return [answer_of(doc) for doc in found if doc["campaign_id"] in rating_requests]

    async def counted_answer(self, campaign_id: str, subscriber: str) -> Answer | None:
        doc = await self._coll("campaign_answers").find_one({"_id": f"{campaign_id} {subscriber}"})
        return None if doc is None else answer_of(doc)

    async def claim_review(
        self, business_number: str, subscriber: str, *, key: str, at: datetime, every: timedelta
    ) -> bool:
        # One conditional upsert: a claim within the period by another key matches
        # nothing, and the insert it then tries collides with the _id.
        try:
            await self._reviews.update_one(
                {
                    "_id": f"{business_number} {subscriber}",
                    "$or": [{"key": key}, {"at": {"$lte": documents.ms(at - every)}}],
                },
                {"$set": {"key": key, "at": documents.ms(at)}},
                upsert=True,
            )
        except DuplicateKeyError:
            return False
        return True
