"""Answers to campaigns: one document per campaign and subscriber, the counted answer
({_id: "campaign subscriber", campaign_id, subscriber, choice, text, sid, at, sids:
every MessageSid of theirs already read})."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from bridge.campaigns.models import QUOTE_WINDOW, Answer, CampaignState, Tally
from bridge.models import NewJob, utcnow
from bridge.store.mongo import documents
from bridge.store.mongo.connection import MongoConnection
from bridge.store.mongo.documents import Doc

# Which answer replaces the counted one: a later one ("last"), or an earlier ("first").
_REPLACES = {"last": "$lte", "first": "$gt"}


def answer_of(doc: Doc) -> Answer:
    return Answer(
        campaign_id=doc["campaign_id"],
        subscriber=doc["subscriber"],
        choice=doc["choice"],
        text=doc["text"],
        sid=doc["sid"],
        at=documents.aware(doc["at"]),
    )


async def campaign_listening(campaigns: AsyncCollection[Any], now: datetime) -> bool:
    """Whether any campaign may be answered or quoted now (else `latest_campaign_text`
    skips its lookup): one still to send, one taking answers, one within the quote
    window."""
    since = documents.ms(now - QUOTE_WINDOW)
    running = [CampaignState.SCHEDULED, CampaignState.SENDING, CampaignState.PAUSED]
    found: Doc | None = await campaigns.find_one(
        {
            "$or": [
                {"state": {"$in": [state.value for state in running]}},
                {"closes_at": {"$gt": documents.ms(now)}, "closed": False},
                {"closes_at": None, "finished_at": {"$gt": since}},
                {"closes_at": None, "finished_at": None, "started_at": {"$gt": since}},
                {"closes_at": None, "started_at": None, "created_at": {"$gt": since}},
            ],
        },
        {"_id": True},
    )
    return found is not None


class AnswerDocuments(MongoConnection):
    """AnswerStore on MongoDB."""

    @property
    def _answers(self) -> AsyncCollection[Any]:
        return self._coll("campaign_answers")

    async def record_answer(
        self, answer: Answer, *, keep: str = "last", jobs: Sequence[NewJob] = ()
    ) -> bool:
        changed = await self._count(answer, keep)
        # Also for a known sid: a crash may have come between its answer and these.
        for job in jobs:
            await self._enqueue(job, run_at=utcnow())
        return changed

    async def _count(self, answer: Answer, keep: str) -> bool:
        at = documents.ms(answer.at)
        # One conditional upsert: a known sid, or an answer the rule does not prefer,
        # matches nothing, and the insert it then tries collides with the _id.
        try:
            result = await self._answers.update_one(
                {
                    "_id": f"{answer.campaign_id} {answer.subscriber}",
                    "sids": {"$ne": answer.sid},
                    "at": {_REPLACES[keep]: at},
                },
                {
                    "$set": {
                        "campaign_id": answer.campaign_id,
                        "subscriber": answer.subscriber,
                        "choice": answer.choice,
                        "text": answer.text,
                        "sid": answer.sid,
                        "at": at,
                    },
                    "$addToSet": {"sids": answer.sid},
                },
                upsert=True,
            )
        except DuplicateKeyError:
            return False
        return result.modified_count > 0 or result.upserted_id is not None

    async def tally(self, campaign_id: str) -> Tally:
        cursor = await self._answers.aggregate(
            [
                {"$match": {"campaign_id": campaign_id}},
                {"$group": {"_id": "$choice", "n": {"$sum": 1}}},
            ]
        )
        counts = {doc["_id"]: int(doc["n"]) async for doc in cursor}
        return Tally(counts=counts, total=sum(counts.values()))

    async def campaign_answers(self, campaign_id: str) -> list[Answer]:
        found: list[Doc] = await self._answers.find(
            {"campaign_id": campaign_id}, sort=[("at", ASCENDING), ("subscriber", ASCENDING)]
        ).to_list(None)
        return [answer_of(doc) for doc in found]
