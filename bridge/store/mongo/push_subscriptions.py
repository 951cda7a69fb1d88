"""Browsers subscribed to Web Push: one document per endpoint."""

from __future__ import annotations

from pymongo import ASCENDING

from bridge.models import PushSubscription
from bridge.store.mongo.connection import MongoConnection
from bridge.store.mongo.documents import aware, ms


class PushSubscriptionDocuments(MongoConnection):
    """PushSubscriptionStore on MongoDB."""

    async def save_push_subscription(self, subscription: PushSubscription) -> None:
        doc = {
            "user": subscription.user,
            "p256dh": subscription.p256dh,
            "auth": subscription.auth,
            "created_at": ms(subscription.created_at),
        }
        await self._push_subscriptions.replace_one({"_id": subscription.endpoint}, doc, upsert=True)

    async def push_subscriptions(self, user: str) -> list[PushSubscription]:
        cursor = self._push_subscriptions.find({"user": user}).sort(
            [("created_at", ASCENDING), ("_id", ASCENDING)]
        )
        return [
            PushSubscription(
                user=doc["user"],
                endpoint=doc["_id"],
                p256dh=doc["p256dh"],
                auth=doc["auth"],
                created_at=aware(doc["created_at"]),
            )
            async for doc in cursor
        ]

    async def drop_push_subscription(self, endpoint: str) -> None:
        await self._push_subscriptions.delete_one({"_id": endpoint})
