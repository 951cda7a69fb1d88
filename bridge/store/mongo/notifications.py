"""What the notification rules decided and what went out.

No transactions: a run's items and jobs are written first, each idempotently (an item
by its id, a job by its key), and its key last; a run that crashed in between is run
again by its NOTIFY job and adds nothing twice. Items are kept, marked sent, so such a
late repeat cannot bring a sent one back."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from datetime import datetime

from pymongo import ASCENDING
from pymongo.errors import BulkWriteError, DuplicateKeyError

from bridge.models import DigestItem, NewJob, utcnow
from bridge.store.mongo.connection import DUPLICATE_KEY
from bridge.store.mongo.documents import ms
from bridge.store.mongo.jobs import JobDocuments


class NotificationDocuments(JobDocuments):  # its jobs are enqueued as JobStore does
    """NotificationStore on MongoDB."""

    async def dispatch(
        self, key: str, jobs: Sequence[tuple[NewJob, datetime]], items: Sequence[DigestItem]
    ) -> bool:
        if await self.delivered(key):
            return False
        if items:
            docs = [
                {
                    "_id": item.id,
                    "via": item.period.via,
                    "to": item.period.to,
                    "due": ms(item.period.due),
                    "item": item.model_dump(mode="json"),
                    "sent": False,
                    "at": ms(utcnow()),
                }
                for item in items
            ]
            try:
                await self._digest_items.insert_many(docs, ordered=False)
            except BulkWriteError as exc:
                if any(e.get("code") != DUPLICATE_KEY for e in exc.details.get("writeErrors", [])):
                    raise
        for job, run_at in jobs:
            await self.enqueue(job, run_at=run_at)
        try:
            await self._sent.insert_one({"_id": key, "at": ms(utcnow())})
        except DuplicateKeyError:
            return False
        return True

    async def digest_items(self, via: str, to: str, *, due_by: datetime) -> list[DigestItem]:
        cursor = self._digest_items.find(
            {"via": via, "to": to, "sent": False, "due": {"$lte": ms(due_by)}}
        ).sort([("at", ASCENDING), ("_id", ASCENDING)])
        return [DigestItem.model_validate(doc["item"]) async for doc in cursor]

    async def finish_digest(self, key: str, item_ids: Sequence[str]) -> None:
        # The items first: a crash before the key is recorded sends nothing again, as
        # there is nothing left to send.
        await self._digest_items.update_many(
            {"_id": {"$in": list(item_ids)}}, {"$set": {"sent": True}}
        )
        await self.mark_delivered(key)

    async def delivered(self, key: str) -> bool:
        return await self._sent.find_one({"_id": key}) is not None

    async def mark_delivered(self, key: str) -> None:
        with contextlib.suppress(DuplicateKeyError):
            await self._sent.insert_one({"_id": key, "at": ms(utcnow())})
