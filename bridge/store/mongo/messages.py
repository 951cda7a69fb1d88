"""Texts received, idempotent by MessageSid: the post job carries the message and
is the one durable write; and where Slack shows messages."""

from __future__ import annotations

from datetime import datetime

from pymongo import DESCENDING
from pymongo.errors import DuplicateKeyError

from bridge.models import (
    InboundRecord,
    InboundSms,
    JobState,
    KeywordMark,
    Message,
)
from bridge.store import effects
from bridge.store.mongo import documents
from bridge.store.mongo.connection import MongoConnection
from bridge.store.mongo.conversations import conversation_of
from bridge.store.mongo.documents import Doc
from bridge.store.mongo.posts import land


class MessageDocuments(MongoConnection):
    """MessageStore on MongoDB."""

    async def record_inbound(
        self, sms: InboundSms, *, keyword: KeywordMark | None = None
    ) -> InboundRecord:
        # (a) A known sid changes nothing.
        known = await self._known_inbound(sms.sid)
        if known is not None:
            return known
        at = documents.ms(sms.received_at)
        # (b) Open or touch the conversation. Repeating it is harmless: $max.
        conversation, opened = await conversation_of(
            self._conversations,
            sms.channel,
            sms.business_number,
            sms.subscriber,
            at,
            touch=True,
            opener=sms.sid,
        )
        message = Message.received(sms, conversation.id, keyword, at=at)
        # (c) The durable write: the post job with the message inside it. The unique
        # index on message.sid lets exactly one of concurrent same-sid calls in.
        jobs = effects.after_inbound(
            conversation, message, opened=opened, publishing=self.publishing
        )
        document = await self._carrying(jobs, message, run_at=at)
        timer = effects.first_response_timer(message, self.first_response_minutes)
        timer_docs: list[Doc] = []
        if timer is not None:  # follows with its own due time; a pending one stays
            timer_docs = await self._job_docs([timer[0]], run_at=documents.ms(timer[1]))
            document.setdefault("follow", []).extend(timer_docs)
        try:
            await self._jobs.insert_one(document)
        except DuplicateKeyError:
            known = await self._known_inbound(sms.sid)
            if known is None:
                raise
            return known
        # (d) The message's own document. A crash before this line is repaired by
        # `claim_jobs` (and by a provider retry through `_known_inbound`).
        if not await self._ensure_message(document["message"]):
            # The unique message.sid only guards while the first post job exists. If
            # this call stalled between (a) and (c) while the first copy was stored,
            # posted and its job deleted, this copy is a late duplicate: withdraw its
            # job (a worker that claimed it already drops it the same way).
            await self._jobs.delete_one({"_id": document["_id"], "state": JobState.PENDING.value})
            known = await self._known_inbound(sms.sid)
            if known is None:
                raise RuntimeError(f"sid {sms.sid} is taken but has no message")
            return known
        await self._follow(document)
        for timer_doc in timer_docs:
            await self._rearm(timer_doc)
        return InboundRecord(conversation=conversation, message=message, created=True)

    async def _rearm(self, timer: Doc) -> None:
        """A check that is running as the text comes may have looked before it: it runs
        once more (as `enqueue` would have it); one that ended meanwhile is stored anew."""
        running = {"_id": timer["_id"], "state": JobState.RUNNING.value}
        if (await self._jobs.update_one(running, {"$set": {"rerun": True}})).matched_count == 0:
            await self._insert_jobs([timer])

    async def _known_inbound(self, sid: str) -> InboundRecord | None:
        doc = await self._find_message({"sid": sid})
        if doc is None:
            return None
        message = documents.message(doc)
        found: Doc | None = await self._conversations.find_one({"_id": message.conversation_id})
        if found is None:  # (b) is written before (c): cannot happen
            raise RuntimeError(f"message {message.id} has no conversation")
        conversation = documents.conversation(found)
        return InboundRecord(conversation=conversation, message=message, created=False)

    async def get_message(self, message_id: str) -> Message | None:
        doc: Doc | None = await self._messages.find_one({"_id": message_id})
        return None if doc is None else documents.message(doc)

    async def set_message_slack_ts(
        self,
        message_id: str,
        channel: str,
        ts: str,
        *,
        with_draft: bool = False,
        landing: str | None = None,
    ) -> None:
        if landing is not None:
            await land(self._posts, landing, ts)
        if with_draft:  # first: a reader that sees the text posted sees its draft posted
            await self._messages.update_one(
                {"_id": message_id, "draft": {"$ne": None}}, {"$set": {"draft.slack_ts": ts}}
            )
        await self._messages.update_one(
            {"_id": message_id}, {"$set": {"slack_channel": channel, "slack_ts": ts}}
        )

    async def get_message_by_slack_ts(self, channel: str, ts: str) -> Message | None:
        # Repairs, like a retry of record_outbound would: an edit or delete in Slack
        # may come before the send job is claimed.
        doc = await self._find_message({"slack_channel": channel, "slack_ts": ts})
        return None if doc is None else documents.message(doc)

    async def get_message_by_sid(self, sid: str) -> Message | None:
        doc = await self._find_message({"sid": sid})
        return None if doc is None else documents.message(doc)

    async def set_shown_ts(self, message_id: str, ts: str) -> None:
        await self._messages.update_one({"_id": message_id}, {"$set": {"shown_ts": ts}})

    async def mark_media_posted(self, message_id: str) -> None:
        await self._messages.update_one({"_id": message_id}, {"$set": {"media_posted": True}})

    async def recent_messages(
        self, conversation_id: int, *, limit: int, until: datetime | None = None
    ) -> list[Message]:
        query: Doc = {"conversation_id": conversation_id}
        if until is not None:
            query["created_at"] = {"$lte": documents.ms(until)}
        cursor = (
            self._messages.find(query)
            .sort([("created_at", DESCENDING), ("_id", DESCENDING)])
            .limit(limit)
        )
        return [documents.message(doc) for doc in reversed(await cursor.to_list())]
