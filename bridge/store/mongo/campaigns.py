"""Campaigns ({_id: id, spec, state, …}), their recipients ({_id: "<campaign>:<number>",
campaign_id, seq, subscriber, state, reason?, message_id?, conversation_id?}) and their
texts (messages with a `campaign_id`).

Creating one writes the recipients, then its jobs, then the campaign: the campaign
document is the durable write, and a pump that runs before it exists waits for it. A
recipient's text is queued as a reply is: the send job carrying the message first (its
key, from the message id, lets one write in), then the message, then the recipient."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cached_property
from typing import Any

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError, DuplicateKeyError

from bridge.campaigns.models import (
    Campaign,
    CampaignSpec,
    CampaignState,
    Progress,
    Recipient,
    RecipientState,
)
from bridge.models import (
    Channel,
    ConsentKind,
    Contact,
    Conversation,
    DeliveryStatus,
    Message,
    NewJob,
    utcnow,
)
from bridge.store import effects
from bridge.store.campaign_listening import ListeningCache
from bridge.store.campaign_specs import SpecCache
from bridge.store.mongo import documents
from bridge.store.mongo.answers import campaign_listening
from bridge.store.mongo.connection import DUPLICATE_KEY, MongoConnection
from bridge.store.mongo.conversations import conversation_of
from bridge.store.mongo.documents import Doc

# A campaign's state without its spec, which comes from the store's SpecCache.
_STATE = {"spec": False}


class CampaignDocuments(MongoConnection):
    """CampaignStore on MongoDB."""

    @property
    def _campaigns(self) -> AsyncCollection[Any]:
        return self._coll("campaigns")

    @property
    def _recipients(self) -> AsyncCollection[Any]:
        return self._coll("campaign_recipients")

    @cached_property
    def _specs(self) -> SpecCache:
        return SpecCache()

    @cached_property
    def _listening(self) -> ListeningCache:
        return ListeningCache()

    async def _any_listening(self) -> bool:
        return await campaign_listening(self._campaigns, utcnow())

    async def _read_specs(self, campaign_ids: list[str]) -> dict[str, CampaignSpec]:
        cursor = self._campaigns.find({"_id": {"$in": campaign_ids}}, {"spec": True})
        return {doc["_id"]: CampaignSpec.model_validate(doc["spec"]) async for doc in cursor}

    async def _campaigns_of(self, found: Sequence[Doc]) -> list[Campaign]:
        specs = await self._specs.specs((doc["_id"] for doc in found), self._read_specs)
        return [documents.campaign(doc, specs[doc["_id"]]) for doc in found]

    async def _campaign_of(self, doc: Doc | None) -> Campaign | None:
        return None if doc is None else (await self._campaigns_of([doc]))[0]

    async def create_campaign(
        self,
        campaign: Campaign,
        subscribers: Sequence[str],
        *,
        jobs: Sequence[tuple[NewJob, datetime]] = (),
    ) -> bool:
        self._listening.clear()  # a reply may come as soon as its texts go out
        created = await self._campaigns.find_one({"_id": campaign.id}, {"_id": True}) is None
        if created and subscribers:
            docs = [
                {
                    "_id": f"{campaign.id}:{who}",
                    "campaign_id": campaign.id,
                    "seq": n,
                    "subscriber": who,
                    "state": RecipientState.PENDING.value,
                }
                for n, who in enumerate(subscribers)
            ]
            try:
                await self._recipients.insert_many(docs, ordered=False)
            except BulkWriteError as exc:  # stored before a crash: they stay
                errors = exc.details.get("writeErrors", [])
                if any(e.get("code") != DUPLICATE_KEY for e in errors):
                    raise
        for job, due in jobs:
            await self._enqueue(job, run_at=due)
        if not created:
            return False
        try:
            await self._campaigns.insert_one(documents.campaign_doc(campaign))
        except DuplicateKeyError:
            return False
        return True

    async def get_campaign(self, campaign_id: str) -> Campaign | None:
        doc: Doc | None = await self._campaigns.find_one({"_id": campaign_id}, _STATE)
        return await self._campaign_of(doc)

    async def list_campaigns(self, *, limit: int = 20) -> list[Campaign]:
        cursor = self._campaigns.find(
            {}, _STATE, sort=[("created_at", DESCENDING), ("_id", DESCENDING)], limit=limit
        )
        return await self._campaigns_of([doc async for doc in cursor])

    async def _move(self, query: Doc, changes: Doc) -> Campaign | None:
        """One compare-and-set on the campaign document: the campaign after, or None."""
        doc: Doc | None = await self._campaigns.find_one_and_update(
            query, {"$set": changes}, _STATE, return_document=ReturnDocument.AFTER
        )
        return await self._campaign_of(doc)

    async def set_campaign_state(
        self, campaign_id: str, state: CampaignState, *, expect: Sequence[CampaignState]
    ) -> Campaign | None:
        return await self._move(
            {"_id": campaign_id, "state": {"$in": [s.value for s in expect]}},
            {"state": state.value},
        )

    async def start_campaign(
        self,
        campaign_id: str,
        *,
        at: datetime,
        closes_at: datetime | None,
        jobs: Sequence[tuple[NewJob, datetime]] = (),
    ) -> Campaign | None:
        self._listening.clear()
        # The jobs first: each is idempotent by its key, and a campaign left SCHEDULED
        # by a crash here is started again by its next pump.
        if (
            await self._campaigns.find_one(
                {"_id": campaign_id, "state": CampaignState.SCHEDULED.value}, {"_id": True}
            )
            is None
        ):
            return None
        for job, due in jobs:
            await self._enqueue(job, run_at=due)
        return await self._move(
            {"_id": campaign_id, "state": CampaignState.SCHEDULED.value},
            {
                "state": CampaignState.SENDING.value,
                "started_at": documents.ms(at),
                "closes_at": None if closes_at is None else documents.ms(closes_at),
            },
        )

    async def finish_campaign(self, campaign_id: str, *, at: datetime) -> Campaign | None:
        pending = await self._recipients.find_one(
            {"campaign_id": campaign_id, "state": RecipientState.PENDING.value}, {"_id": True}
        )
        if pending is not None:
            return None
        return await self._move(
            {"_id": campaign_id, "state": CampaignState.SENDING.value},
            {"state": CampaignState.DONE.value, "finished_at": documents.ms(at)},
        )

    async def close_campaign(self, campaign_id: str) -> Campaign | None:
        return await self._move({"_id": campaign_id, "closed": False}, {"closed": True})

    async def set_campaign_slack(
        self,
        campaign_id: str,
        *,
        channel: str,
        progress_ts: str | None = None,
        results_ts: str | None = None,
    ) -> None:
        changes: Doc = {"slack_channel": channel}
        if progress_ts is not None:
            changes["progress_ts"] = progress_ts
        if results_ts is not None:
            changes["results_ts"] = results_ts
        await self._campaigns.update_one({"_id": campaign_id}, {"$set": changes})

    async def campaign_recipients(self, campaign_id: str) -> list[Recipient]:
        cursor = self._recipients.find({"campaign_id": campaign_id}, sort=[("seq", ASCENDING)])
        return [documents.recipient(doc) async for doc in cursor]

    async def pending_recipients(self, campaign_id: str, *, limit: int) -> list[Recipient]:
        cursor = self._recipients.find(
            {"campaign_id": campaign_id, "state": RecipientState.PENDING.value},
            sort=[("seq", ASCENDING)],
            limit=limit,
        )
        return [documents.recipient(doc) async for doc in cursor]

    async def queue_campaign_text(
        self, message: Message, subscriber: str, *, send_at: datetime
    ) -> bool:
        stored = await self._messages.find_one({"_id": message.id}, {"_id": True})
        if stored is None:
            document = await self._carrying(
                effects.after_queued(message), message, run_at=documents.ms(send_at)
            )
            try:
                await self._jobs.insert_one(document)
            except DuplicateKeyError:
                pass  # its job is stored (a crash after it): the repair below finishes it
            else:
                await self._follow(document)
            await self._ensure_message(document["message"])
        moved = await self._recipients.update_one(
            {
                "campaign_id": message.campaign_id,
                "subscriber": subscriber,
                "state": RecipientState.PENDING.value,
            },
            {
                "$set": {
                    "state": RecipientState.QUEUED.value,
                    "message_id": message.id,
                    "conversation_id": message.conversation_id,
                }
            },
        )
        return stored is None and moved.modified_count == 1

    async def queue_campaign_texts(self, texts: Sequence[tuple[Message, str, datetime]]) -> int:
        # No transactions here: each is its own idempotent sequence of writes.
        queued = 0
        for message, subscriber, send_at in texts:
            queued += await self.queue_campaign_text(message, subscriber, send_at=send_at)
        return queued

    async def skip_recipient(self, campaign_id: str, subscriber: str, reason: str) -> bool:
        moved = await self._recipients.update_one(
            {
                "campaign_id": campaign_id,
                "subscriber": subscriber,
                "state": RecipientState.PENDING.value,
            },
            {"$set": {"state": RecipientState.SKIPPED.value, "reason": reason}},
        )
        return moved.modified_count == 1

    async def cancel_campaign_texts(self, campaign_id: str) -> int:
        result = await self._messages.update_many(
            {"campaign_id": campaign_id, "status": DeliveryStatus.QUEUED.value},
            {"$set": {"status": DeliveryStatus.CANCELLED.value}},
        )
        return int(result.modified_count)

    async def campaign_progress(self, campaign_id: str) -> Progress:
        # count_documents per state and status rather than a $group: they are few.
        states = {
            state.value: await self._recipients.count_documents(
                {"campaign_id": campaign_id, "state": state.value}
            )
            for state in RecipientState
        }
        statuses = {
            status.value: await self._messages.count_documents(
                {"campaign_id": campaign_id, "status": status.value}
            )
            for status in DeliveryStatus
        }
        return Progress.count(
            states, statuses, opted_out_since=await self._opted_out_since(campaign_id)
        )

    async def _opted_out_since(self, campaign_id: str) -> int:
        """Recipients whose latest conversational consent is a revocation made since
        the campaign began."""
        campaign = await self.get_campaign(campaign_id)
        if campaign is None or campaign.started_at is None:
            return 0
        spec = campaign.spec
        revoked = await self._consent_events.distinct(
            "subscriber",
            {
                "channel": spec.channel.value,
                "business_number": spec.from_number,
                "kind": ConsentKind.CONVERSATIONAL.value,
                "granted": False,
                "at": {"$gte": documents.ms(campaign.started_at)},
            },
        )
        still = []
        for subscriber in revoked:
            latest: Doc | None = await self._consent_events.find_one(
                documents.addresses(spec.channel, spec.from_number, subscriber)
                | {"kind": ConsentKind.CONVERSATIONAL.value},
                projection={"granted": True},
                sort=documents.LATEST,
            )
            if latest is not None and not latest["granted"]:
                still.append(subscriber)
        if not still:
            return 0
        return int(
            await self._recipients.count_documents(
                {"campaign_id": campaign_id, "subscriber": {"$in": still}}
            )
        )

    async def latest_campaign_text(
        self, business_number: str, subscriber: str, channel: Channel = Channel.SMS
    ) -> tuple[Campaign, Message] | None:
        if not await self._listening.listening(self._any_listening):
            return None
        conversation: Doc | None = await self._conversations.find_one(
            documents.addresses(channel, business_number, subscriber), {"_id": True}
        )
        if conversation is None:
            return None
        doc: Doc | None = await self._messages.find_one(
            {
                "conversation_id": conversation["_id"],
                "campaign_id": {"$type": "string"},
                "sid": {"$type": "string"},
            },
            sort=[("created_at", DESCENDING)],
        )
        if doc is None:
            return None
        message = documents.message(doc)
        campaign = await self.get_campaign(doc["campaign_id"])
        return None if campaign is None else (campaign, message)

    async def open_campaign_conversation(
        self, business_number: str, subscriber: str, channel: Channel = Channel.SMS
    ) -> Conversation:
        conversation, _ = await conversation_of(
            self._conversations,
            channel,
            business_number,
            subscriber,
            documents.ms(utcnow()),
            touch=False,
            active=False,
        )
        return conversation

    async def open_campaign_conversations(
        self, business_number: str, subscribers: Sequence[str], channel: Channel = Channel.SMS
    ) -> dict[str, Conversation]:
        return {
            subscriber: await self.open_campaign_conversation(business_number, subscriber, channel)
            for subscriber in subscribers
        }

    async def campaign_contacts(self) -> list[Contact]:
        cursor = self._contacts.find({}, sort=[("_id", ASCENDING)])
        return [documents.contact(doc) async for doc in cursor]

    async def last_texts(
        self, business_number: str, channel: Channel
    ) -> dict[str, datetime | None]:
        cursor = self._conversations.find(
            {"channel": channel.value, "business_number": business_number},
            projection={"subscriber": True, "last_inbound_at": True},
        )
        return {
            doc["subscriber"]: documents.aware_or_none(doc.get("last_inbound_at"))
            async for doc in cursor
        }
