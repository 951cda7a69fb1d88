"""Conversations: found, opened (numbered densely), touched by texts, changed, listed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from pymongo import DESCENDING, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from bridge.models import (
    Channel,
    Conversation,
    ConversationPatch,
    ConversationStatus,
    InboxFilter,
    NewJob,
    utcnow,
)
from bridge.store.mongo import documents
from bridge.store.mongo.connection import MongoConnection
from bridge.store.mongo.documents import Doc

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


async def conversation_of(
    conversations: AsyncCollection[Any],
    channel: Channel,
    business_number: str,
    subscriber: str,
    at: datetime,
    *,
    touch: bool,
    opener: str | None = None,
    active: bool = True,
) -> tuple[Conversation, bool]:
    """Find or open the conversation; with `touch` (a text from the subscriber), its
    activity and last text move on to `at` (never back). Also whether the text
    `opener` (a MessageSid) opened it: kept on the document, so a retry of that text
    after a crash still knows. One opened not `active` has no activity yet (epoch)."""
    key = documents.addresses(channel, business_number, subscriber)
    while True:
        doc: Doc | None
        if touch:
            doc = await conversations.find_one_and_update(
                key,
                {"$max": {"last_activity_at": at, "last_inbound_at": at}},
                return_document=ReturnDocument.AFTER,
            )
        else:
            doc = await conversations.find_one(key)
        if doc is not None:
            return documents.conversation(doc), _opened_by(doc, opener)
        # The next number: one more than the highest in use, so numbers are dense
        # (agents type them: #2). Two calls opening conversations at once may pick
        # the same one; the unique _id lets one in, and the other looks again (for
        # the same subscriber it then finds the conversation the first opened).
        highest: Doc | None = await conversations.find_one(
            {}, projection={"_id": True}, sort=[("_id", DESCENDING)]
        )
        doc = {
            "_id": (int(highest["_id"]) if highest else 0) + 1,
            **key,
            "status": ConversationStatus.OPEN.value,
            "assignee": None,
            "flagged": False,
            "slack_channel": None,
            "slack_thread_ts": None,
            "created_at": at,
            "last_activity_at": at if active else EPOCH,
            "header_activity_at": None,
            "flag_reason": None,
            "seen_at": None,
            # Missing until a text comes (not null: mongomock cannot $max a null).
            **({"last_inbound_at": at} if touch else {}),
            **({"opened_by": opener} if opener else {}),
        }
        try:
            await conversations.insert_one(doc)
        except DuplicateKeyError:
            continue
        return documents.conversation(doc), _opened_by(doc, opener)


def _opened_by(doc: Doc, opener: str | None) -> bool:
    return opener is not None and doc.get("opened_by") == opener


class ConversationDocuments(MongoConnection):
    """ConversationStore on MongoDB."""

    async def get_conversation(self, conversation_id: int) -> Conversation | None:
        doc: Doc | None = await self._conversations.find_one({"_id": conversation_id})
        return None if doc is None else documents.conversation(doc)

    async def find_conversation(
        self, business_number: str, subscriber: str, channel: Channel = Channel.SMS
    ) -> Conversation | None:
        doc: Doc | None = await self._conversations.find_one(
            documents.addresses(channel, business_number, subscriber)
        )
        return None if doc is None else documents.conversation(doc)

    async def find_conversation_by_thread(
        self, channel: str, thread_ts: str
    ) -> Conversation | None:
        doc: Doc | None = await self._conversations.find_one(
            {"slack_channel": channel, "slack_thread_ts": thread_ts}
        )
        return None if doc is None else documents.conversation(doc)

    async def open_conversation(
        self, business_number: str, subscriber: str, channel: Channel = Channel.SMS
    ) -> Conversation:
        # The same path as record_inbound's (b), so both number conversations alike and
        # share one per (channel, business number, subscriber), without touching activity.
        conversation, _ = await conversation_of(
            self._conversations,
            channel,
            business_number,
            subscriber,
            documents.ms(utcnow()),
            touch=False,
        )
        return conversation

    async def update_conversation(
        self, conversation_id: int, patch: ConversationPatch, *, jobs: Sequence[NewJob] = ()
    ) -> Conversation | None:
        fields = documents.patch_fields(patch)
        doc: Doc | None
        if fields:
            doc = await self._conversations.find_one_and_update(
                {"_id": conversation_id}, {"$set": fields}, return_document=ReturnDocument.AFTER
            )
        else:  # an empty $set is an error: nothing to change
            doc = await self._conversations.find_one({"_id": conversation_id})
        if doc is None:
            return None
        # Without a transaction the change is the durable write and its jobs follow it
        # (as save_draft's do): a crash between the two loses them, never the change.
        now = utcnow()
        for job in jobs:
            await self._enqueue(job, run_at=now)
        return documents.conversation(doc)

    async def list_conversations(
        self, inbox: InboxFilter, *, user: str | None = None, limit: int = 50
    ) -> list[Conversation]:
        if limit <= 0 or inbox is InboxFilter.CAMPAIGNS:  # limit(0) means no limit to MongoDB
            return []
        if inbox is InboxFilter.MINE:
            if user is None:  # {"assignee": None} would be the unassigned ones
                return []
            query: Doc = {"status": documents.OPEN, "assignee": user}
        else:
            query = dict(documents.INBOXES[inbox])  # a copy: the shared one stays as it is
        cursor = self._conversations.find(query, sort=documents.RECENT, limit=limit)
        return [documents.conversation(doc) async for doc in cursor]

    async def set_thread(
        self, conversation_id: int, channel: str, thread_ts: str, *, replacing: str | None
    ) -> bool:
        # {field: None} matches null and missing, like SQLite's `IS NULL`.
        result = await self._conversations.update_one(
            {"_id": conversation_id, "slack_thread_ts": replacing},
            {"$set": {"slack_channel": channel, "slack_thread_ts": thread_ts}},
        )
        return result.matched_count == 1

    async def clear_thread(self, conversation_id: int, thread_ts: str) -> bool:
        result = await self._conversations.update_one(
            {"_id": conversation_id, "slack_thread_ts": thread_ts},
            {
                "$set": {"slack_thread_ts": None, "header_activity_at": None},
                "$inc": {"thread_epoch": 1},
            },
        )
        return result.matched_count == 1

    async def mark_header_shown(self, conversation_id: int, activity_at: datetime) -> None:
        await self._conversations.update_one(
            {"_id": conversation_id}, {"$set": {"header_activity_at": documents.ms(activity_at)}}
        )
