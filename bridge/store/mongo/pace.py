"""Pacing shared by every process on the server (GCRA): each reservation is one
find_one_and_update whose pipeline reads the server's clock (`$$NOW`), so hosts whose
clocks disagree still space their turns by the interval. Times are milliseconds
since the epoch, numbers rather than dates, so the arithmetic stays plain."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pymongo import ReturnDocument

from bridge.models import PaceTurn
from bridge.store.mongo.connection import MongoConnection
from bridge.store.mongo.documents import Doc

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# The server's now, in milliseconds since the epoch.
_NOW = {"$subtract": ["$$NOW", _EPOCH]}
MS = 1000.0


def _reserve(interval: float, tolerance: float, within: float) -> list[dict[str, Any]]:
    """The pipeline of one reservation (see `PaceStore.reserve_pace`); the fields
    starting with `_` are its workings, removed at the end."""
    step, early, within_ms = interval * MS, tolerance * MS, within * MS
    tat = {"$max": [{"$ifNull": ["$tat", "$_now"]}, "$_now"]}
    return [
        {"$set": {"_now": _NOW}},
        {"$set": {"_earliest": {"$subtract": [tat, early]}, "_tat": tat}},
        {
            "$set": {
                "taken": {"$lte": [{"$subtract": ["$_earliest", "$_now"]}, within_ms]},
                "_booking": {"$max": ["$_earliest", {"$add": [{"$ifNull": ["$booked", 0]}, step]}]},
            }
        },
        {
            "$set": {
                "turn": {"$cond": ["$taken", {"$max": ["$_now", "$_earliest"]}, "$_booking"]},
                "booked": {"$cond": ["$taken", {"$ifNull": ["$booked", 0]}, "$_booking"]},
                "tat": {"$cond": ["$taken", {"$add": ["$_tat", step]}, "$_tat"]},
                "held_until": {"$ifNull": ["$held_until", 0]},
            }
        },
        {
            "$set": {
                "wait": {"$max": [0, {"$subtract": ["$turn", "$_now"]}]},
                "free_in": {"$max": [0, {"$subtract": ["$tat", {"$add": ["$_now", early]}]}]},
                "held_for": {"$max": [0, {"$subtract": ["$held_until", "$_now"]}]},
            }
        },
        {"$project": {"_now": 0, "_earliest": 0, "_tat": 0, "_booking": 0}},
    ]


def _hold(seconds: float, tolerance: float) -> list[dict[str, Any]]:
    until = {"$add": [_NOW, seconds * MS]}
    return [
        {"$set": {"_until": until}},
        {
            "$set": {
                "held_until": {"$max": [{"$ifNull": ["$held_until", 0]}, "$_until"]},
                "tat": {"$max": [{"$ifNull": ["$tat", 0]}, {"$add": ["$_until", tolerance * MS]}]},
            }
        },
        {"$project": {"_until": 0}},
    ]


class PaceDocuments(MongoConnection):
    """PaceStore on MongoDB: `pace` {_id: key, tat, booked, held_until, and the last
    reservation's answer: taken, turn, wait, free_in, held_for}."""

    async def reserve_pace(
        self, key: str, *, interval: float, tolerance: float, within: float
    ) -> PaceTurn:
        doc: Doc | None = await self._coll("pace").find_one_and_update(
            {"_id": key},
            _reserve(interval, tolerance, within),
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        assert doc is not None  # upserted
        return PaceTurn(
            taken=doc["taken"],
            wait=doc["wait"] / MS,
            free_in=doc["free_in"] / MS,
            held_for=doc["held_for"] / MS,
        )

    async def hold_pace(self, key: str, *, seconds: float, tolerance: float) -> None:
        await self._coll("pace").update_one({"_id": key}, _hold(seconds, tolerance), upsert=True)

    async def pace_held(self, key: str) -> float:
        """Read on the server's clock too: one reservation-free pipeline."""
        found = await self._coll("pace").aggregate(
            [
                {"$match": {"_id": key}},
                {"$project": {"held_for": {"$max": [0, {"$subtract": ["$held_until", _NOW]}]}}},
            ]
        )
        docs = await found.to_list(1)
        return float(docs[0]["held_for"]) / MS if docs else 0.0
