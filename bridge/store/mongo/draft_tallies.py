"""What agents did with each knowledge-base entry's drafts: counters per entry."""

from __future__ import annotations

from collections.abc import Sequence

from pymongo import ASCENDING, DESCENDING

from bridge.models import DraftOutcome, EntryOutcomes
from bridge.store.mongo.connection import MongoConnection


class DraftTallyDocuments(MongoConnection):
    """DraftTallyStore on MongoDB: {_id: entry id, sent, edited, discarded, corrected}."""

    async def count_draft_outcome(self, entry_ids: Sequence[str], outcome: DraftOutcome) -> None:
        corrected = 0 if outcome is DraftOutcome.SENT else 1
        for entry_id in dict.fromkeys(entry_ids):
            await self._coll("draft_outcomes").update_one(
                {"_id": entry_id},
                {"$inc": {outcome.value: 1, "corrected": corrected}},
                upsert=True,
            )

    async def draft_outcomes(self, *, limit: int) -> list[EntryOutcomes]:
        cursor = (
            self._coll("draft_outcomes")
            .find({"corrected": {"$gt": 0}})
            .sort([("corrected", DESCENDING), ("_id", ASCENDING)])
            .limit(limit)
        )
        return [
            EntryOutcomes(
                entry_id=doc["_id"],
                sent=doc.get("sent", 0),
                edited=doc.get("edited", 0),
                discarded=doc.get("discarded", 0),
            )
            async for doc in cursor
        ]
