"""Texts the business sends: the send job carries the message and is the one
durable write; then each step is one compare-and-set on the message."""

from __future__ import annotations

import uuid
from datetime import datetime

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from bridge.models import (
    DeliveryStatus,
    Direction,
    JobState,
    Message,
    MessagePurpose,
    OutboundRecord,
    OutboundReply,
    SendAttempt,
    utcnow,
)
from bridge.store import effects
from bridge.store.base import StoreConflict
from bridge.store.mongo import documents
from bridge.store.mongo.connection import MongoConnection
from bridge.store.mongo.documents import Doc


class ReplyDocuments(MongoConnection):
    """ReplyStore on MongoDB."""

    async def record_outbound(
        self,
        reply: OutboundReply,
        *,
        send_at: datetime | None,
        purpose: MessagePurpose = MessagePurpose.REPLY,
    ) -> OutboundRecord:
        slack = {"slack_channel": reply.slack_channel, "slack_ts": reply.slack_ts}
        # (a) A known Slack message changes nothing.
        known = await self._find_message(slack)
        if known is not None:
            return OutboundRecord(message=documents.message(known), created=False)
        message = Message(
            id=uuid.uuid4().hex,
            conversation_id=reply.conversation_id,
            direction=Direction.OUTBOUND,
            body=reply.body,
            created_at=documents.ms(utcnow()),
            slack_channel=reply.slack_channel,
            slack_ts=reply.slack_ts,
            status=DeliveryStatus.QUEUED if send_at is not None else DeliveryStatus.HELD,
            author=reply.author,
            purpose=purpose,
        )
        # (b) Activity on the conversation. Repeating it is harmless: $max.
        touched = await self._conversations.update_one(
            {"_id": reply.conversation_id}, {"$max": {"last_activity_at": message.created_at}}
        )
        if touched.matched_count == 0:
            raise KeyError(f"conversation {reply.conversation_id}")
        if send_at is None:
            # HELD has no job: the message document alone is the one write, and its
            # unique Slack ts lets one of concurrent calls in.
            if not await self._ensure_message(documents.message_doc(message)):
                known = await self._find_message(slack)
                assert known is not None  # the ts that clashed belongs to it
                return OutboundRecord(message=documents.message(known), created=False)
            return OutboundRecord(message=message, created=True)
        # (c) The durable write: the send job with the message inside it. The unique
        # index on message.(slack_channel, slack_ts) lets exactly one of concurrent
        # calls for one Slack message in.
        document = await self._carrying(
            effects.after_queued(message), message, run_at=documents.ms(send_at)
        )
        try:
            await self._jobs.insert_one(document)
        except DuplicateKeyError:
            known = await self._find_message(slack)
            if known is None:
                raise
            return OutboundRecord(message=documents.message(known), created=False)
        # (d) The message's own document, repaired like record_inbound's: by
        # `claim_jobs`, by a retry of this call and by `get_message_by_slack_ts`.
        if not await self._ensure_message(document["message"]):
            # A late duplicate (see record_inbound): withdraw its job.
            await self._jobs.delete_one({"_id": document["_id"], "state": JobState.PENDING.value})
            known = await self._find_message(slack)
            if known is None:
                raise RuntimeError(f"{slack} is taken but has no message")
            return OutboundRecord(message=documents.message(known), created=False)
        await self._follow(document)
        return OutboundRecord(message=message, created=True)

    async def record_system_text(
        self,
        conversation_id: int,
        body: str,
        purpose: MessagePurpose,
        *,
        key: str,
        author: str | None = None,
        shown_ts: str | None = None,
    ) -> Message | None:
        # The same steps as record_outbound, with `key` as the message id: the jobs'
        # _id ("send:<key>") lets one of concurrent calls in, and the message's _id
        # tells a later call that the text exists.
        # (a) A known key changes nothing (repairing a message a crash left in its job).
        if await self._find_message({"_id": key}) is not None:
            return None
        if await self._conversations.find_one({"_id": conversation_id}, {"_id": True}) is None:
            raise KeyError(f"conversation {conversation_id}")
        now = documents.ms(utcnow())
        message = Message(
            id=key,
            conversation_id=conversation_id,
            direction=Direction.OUTBOUND,
            body=body,
            created_at=now,
            status=DeliveryStatus.QUEUED,
            purpose=purpose,
            author=author,
            shown_ts=shown_ts,
        )
        # (b) The durable write: the send job, due now, with the message inside it.
        document = await self._carrying(effects.after_queued(message), message, run_at=now)
        # `written_by` names this call (the message model ignores it): the message
        # document, however it gets stored, tells whether it is this call's.
        written_by = uuid.uuid4().hex
        document["message"] = {**documents.message_doc(message), "written_by": written_by}
        try:
            await self._jobs.insert_one(document)
        except DuplicateKeyError:
            return None  # a concurrent call with this key wrote its job first
        # (c) The message's own document, repaired as record_outbound's is.
        await self._ensure_message(document["message"])
        stored: Doc | None = await self._messages.find_one(
            {"_id": key}, projection={"written_by": True}
        )
        if stored is None or stored.get("written_by") != written_by:
            # A late duplicate: this call stalled after (a) while the first one was
            # stored, sent and its job deleted; the message is that one. Withdraw
            # this job (were it claimed already, begin_send refuses a message that is
            # not QUEUED any more).
            await self._jobs.delete_one({"_id": document["_id"], "state": JobState.PENDING.value})
            return None
        await self._follow(document)
        return message

    # Each of these is one compare-and-set on the message document.
    async def edit_unsent(self, message_id: str, body: str) -> bool:
        result = await self._messages.update_one(
            {"_id": message_id, "status": DeliveryStatus.QUEUED.value}, {"$set": {"body": body}}
        )
        return result.matched_count == 1

    async def release_held(
        self, message_id: str, body: str, purpose: MessagePurpose, *, send_at: datetime
    ) -> Message | None:
        held = await self._messages.find_one(
            {"_id": message_id, "status": DeliveryStatus.HELD.value}
        )
        if held is None:
            return None
        released = documents.message(held).model_copy(
            update={"status": DeliveryStatus.QUEUED, "body": body, "purpose": purpose}
        )
        # Job first, carrying the released message: if the process dies before the
        # message is switched below, the job finds it still HELD, sends nothing, and
        # the agent's button still works. The job's _id lets one of two clicks in.
        document = await self._carrying(
            effects.after_queued(released), released, run_at=documents.ms(send_at)
        )
        try:
            await self._jobs.insert_one(document)
        except DuplicateKeyError:
            return None
        switched = await self._messages.update_one(
            {"_id": message_id, "status": DeliveryStatus.HELD.value},
            {
                "$set": {
                    "status": DeliveryStatus.QUEUED.value,
                    "body": body,
                    "purpose": purpose.value,
                }
            },
        )
        if switched.matched_count == 0:  # cancelled meanwhile: the job must not stay
            await self._jobs.delete_one({"_id": document["_id"], "state": JobState.PENDING.value})
            return None
        await self._follow(document)
        return released

    async def cancel_unsent(self, message_id: str) -> bool:
        result = await self._messages.update_one(
            {
                "_id": message_id,
                "status": {"$in": [DeliveryStatus.QUEUED.value, DeliveryStatus.HELD.value]},
            },
            {"$set": {"status": DeliveryStatus.CANCELLED.value}},
        )
        return result.matched_count == 1

    async def begin_send(self, message_id: str) -> SendAttempt | None:
        doc: Doc | None = await self._messages.find_one_and_update(
            {"_id": message_id, "status": DeliveryStatus.QUEUED.value},
            {
                "$set": {
                    "status": DeliveryStatus.SENDING.value,
                    "send_began_at": documents.ms(utcnow()),
                }
            },
            return_document=ReturnDocument.AFTER,
        )
        if doc is not None:
            return SendAttempt(
                message=documents.message(doc),
                resumed=False,
                began_at=documents.aware(doc["send_began_at"]),
            )
        # Not QUEUED (any more): SENDING is an attempt whose outcome is unknown.
        doc = await self._messages.find_one(
            {"_id": message_id, "status": DeliveryStatus.SENDING.value}
        )
        if doc is None:
            return None
        # Sending since before `send_began_at` was recorded: its creation is the bound.
        began = doc.get("send_began_at") or doc["created_at"]
        return SendAttempt(
            message=documents.message(doc), resumed=True, began_at=documents.aware(began)
        )

    async def finish_send(
        self,
        message_id: str,
        status: DeliveryStatus,
        *,
        sid: str | None = None,
        error_code: int | None = None,
    ) -> Message:
        fields: Doc = {"status": status.value, "error_code": error_code}
        if sid is not None:
            fields["sid"] = sid
        try:
            doc: Doc | None = await self._messages.find_one_and_update(
                {"_id": message_id}, {"$set": fields}, return_document=ReturnDocument.AFTER
            )
        except DuplicateKeyError:
            raise StoreConflict(f"the sid {sid} is another message's") from None
        if doc is None:
            raise KeyError(message_id)
        return documents.message(doc)

    async def update_delivery(
        self, sid: str, status: DeliveryStatus, error_code: int | None
    ) -> Message | None:
        # Only from a status of lower rank: a late or repeated callback never moves a
        # message back, nor sideways.
        older = [s.value for s in DeliveryStatus if s.rank < status.rank]
        fields: Doc = {"status": status.value}
        if error_code is not None:
            fields["error_code"] = error_code
        # Only replies the bridge sent have delivery states (not inbound texts' sids).
        doc: Doc | None = await self._messages.find_one_and_update(
            {"sid": sid, "direction": Direction.OUTBOUND.value, "status": {"$in": older}},
            {"$set": fields},
            return_document=ReturnDocument.AFTER,
        )
        return None if doc is None else documents.message(doc)
