"""What the notification rules decided and what went out."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bridge.models import DigestItem, NewJob, utcnow
from bridge.store.sqlite import rows
from bridge.store.sqlite.connection import SQLiteConnection
from bridge.store.sqlite.jobs import enqueue_in


class NotificationRows(SQLiteConnection):
    """NotificationStore on SQLite."""

    async def dispatch(
        self, key: str, jobs: Sequence[tuple[NewJob, datetime]], items: Sequence[DigestItem]
    ) -> bool:
        async with self._tx() as db:
            cur = await db.execute(
                "INSERT INTO notifications_sent (key, at) VALUES (?, ?) ON CONFLICT DO NOTHING",
                (key, rows.ts(utcnow())),
            )
            if cur.rowcount != 1:
                return False
            await db.executemany(
                "INSERT INTO digest_items (id, via, recipient, due, item) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT DO NOTHING",
                [
                    (
                        item.id,
                        item.period.via,
                        item.period.to,
                        rows.ts(item.period.due),
                        item.model_dump_json(),
                    )
                    for item in items
                ],
            )
            for job, run_at in jobs:
                await enqueue_in(db, job, run_at=rows.ts(run_at))
        return True

    async def digest_items(self, via: str, to: str, *, due_by: datetime) -> list[DigestItem]:
        found = await self._all(
            "SELECT item FROM digest_items WHERE via = ? AND recipient = ? AND sent = 0"
            " AND due <= ? ORDER BY rowid",
            (via, to, rows.ts(due_by)),
        )
        return [DigestItem.model_validate_json(item) for (item,) in found]

    async def finish_digest(self, key: str, item_ids: Sequence[str]) -> None:
        async with self._tx() as db:
            await db.executemany(
                "UPDATE digest_items SET sent = 1 WHERE id = ?", [(i,) for i in item_ids]
            )
            await db.execute(
                "INSERT INTO notifications_sent (key, at) VALUES (?, ?) ON CONFLICT DO NOTHING",
                (key, rows.ts(utcnow())),
            )

    async def delivered(self, key: str) -> bool:
        return await self._one("SELECT 1 FROM notifications_sent WHERE key = ?", (key,)) is not None

    async def mark_delivered(self, key: str) -> None:
        await self._write(
            "INSERT INTO notifications_sent (key, at) VALUES (?, ?) ON CONFLICT DO NOTHING",
            (key, rows.ts(utcnow())),
        )
