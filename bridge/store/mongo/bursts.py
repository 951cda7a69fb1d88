"""Texts of a burst: those waiting behind a post job in its lane, landed together in
the one Slack message that carries them."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime

from pymongo import ASCENDING

from bridge.models import Job, JobKind, JobState, Message, Rider, TextToPost
from bridge.store.mongo import documents
from bridge.store.mongo.connection import MongoConnection
from bridge.store.mongo.documents import Doc
from bridge.store.mongo.posts import land


class BurstDocuments(MongoConnection):
    """BurstStore on MongoDB."""

    async def waiting_behind(self, job: Job, *, now: datetime, limit: int) -> list[Rider]:
        head: Doc | None = await self._jobs.find_one({"_id": job.key}, projection={"seq": True})
        if head is None:
            return []
        cursor = (
            self._jobs.find(
                {
                    "lane": job.lane,
                    "state": {"$in": documents.UNFINISHED},
                    "seq": {"$gt": head["seq"]},
                }
            )
            .sort([("seq", ASCENDING)])
            .limit(limit)
        )
        waiting: list[Doc] = []
        for doc in await cursor.to_list():
            pending = doc["state"] == JobState.PENDING.value
            if doc["kind"] != JobKind.POST_INBOUND.value or not pending:
                break
            if documents.aware(doc["run_at"]) > now:
                break
            # As a claim would: a text whose own write was cut short is stored first
            # (and the jobs that follow it), before it rides.
            if "message" in doc and not await self._ensure_message(doc["message"]):
                break  # a late duplicate: its own run drops it
            await self._follow(doc)
            waiting.append(doc)
        ids = [doc["message_id"] for doc in waiting]
        found = {d["_id"]: d for d in await self._messages.find({"_id": {"$in": ids}}).to_list()}
        riders: list[Rider] = []
        for doc in waiting:
            message = found.get(doc["message_id"])
            if message is None:
                break
            riders.append(Rider(key=doc["_id"], message=documents.message(message)))
        return riders

    async def land_burst(
        self,
        message_ids: Sequence[str],
        channel: str,
        ts: str,
        *,
        draft_of: str | None,
        landing: str,
        riders: Sequence[str],
    ) -> None:
        # The post first, then the drafts and texts (a reader that sees a text posted
        # sees its draft posted), then the riders' jobs: a crash in between leaves jobs
        # whose texts are posted already, and their runs post nothing.
        await land(self._posts, landing, ts)
        if draft_of is not None:
            await self._messages.update_one(
                {"_id": draft_of, "draft": {"$ne": None}}, {"$set": {"draft.slack_ts": ts}}
            )
        await self._messages.update_many(
            {"_id": {"$in": list(message_ids)}},
            {"$set": {"slack_channel": channel, "slack_ts": ts}},
        )
        if riders:
            await self._jobs.delete_many(
                {"_id": {"$in": list(riders)}, "state": JobState.PENDING.value}
            )

    async def messages_at(self, channel: str, ts: str) -> list[Message]:
        cursor = self._messages.find({"slack_channel": channel, "slack_ts": ts}).sort(
            [("created_at", ASCENDING), ("_id", ASCENDING)]
        )
        return [documents.message(doc) for doc in await cursor.to_list()]

    async def text_to_post(self, message_id: str, conversation_id: int) -> TextToPost:
        # Two round trips: the text and its conversation together, then the contact.
        found, known = await asyncio.gather(
            self._messages.find_one({"_id": message_id}),
            self._conversations.find_one({"_id": conversation_id}),
        )
        conversation = None if known is None else documents.conversation(known)
        contact = None
        if conversation is not None:
            named = await self._contacts.find_one({"_id": conversation.subscriber})
            contact = None if named is None else documents.contact(named)
        return TextToPost(
            message=None if found is None else documents.message(found),
            conversation=conversation,
            contact=contact,
        )
