"""Browsers subscribed to Web Push: one row per endpoint."""

from __future__ import annotations

from bridge.models import PushSubscription
from bridge.store.sqlite import rows
from bridge.store.sqlite.connection import SQLiteConnection


class PushSubscriptionRows(SQLiteConnection):
    """PushSubscriptionStore on SQLite."""

    async def save_push_subscription(self, subscription: PushSubscription) -> None:
        await self._write(
            "INSERT INTO push_subscriptions (endpoint, user, p256dh, auth, created_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (endpoint) DO UPDATE SET"
            " user = excluded.user, p256dh = excluded.p256dh, auth = excluded.auth,"
            " created_at = excluded.created_at",
            (
                subscription.endpoint,
                subscription.user,
                subscription.p256dh,
                subscription.auth,
                rows.ts(subscription.created_at),
            ),
        )

    async def push_subscriptions(self, user: str) -> list[PushSubscription]:
        found = await self._all(
            "SELECT endpoint, p256dh, auth, created_at FROM push_subscriptions"
            " WHERE user = ? ORDER BY created_at, endpoint",
            (user,),
        )
        return [
            PushSubscription(
                user=user,
                endpoint=row["endpoint"],
                p256dh=row["p256dh"],
                auth=row["auth"],
                created_at=rows.dt(row["created_at"]),
            )
            for row in found
        ]

    async def drop_push_subscription(self, endpoint: str) -> None:
        await self._write("DELETE FROM push_subscriptions WHERE endpoint = ?", (endpoint,))
