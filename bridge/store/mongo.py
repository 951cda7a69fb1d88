"""MongoDB engine, on PyMongo's async API. Runs on a standalone server: no
multi-document transactions. Each effect has exactly one durable single-document
write; the writes around it are idempotent (they repeat or repair safely), so a
crash between two of them never loses or doubles anything.

Collections:
  counters       {_id: "jobs" | "consent_events", n}: allocators ($inc is atomic).
                 Conversations are numbered densely instead: one more than the highest.
  conversations  {_id: int id, channel, business_number, subscriber, status,
                  last_inbound_at, ...}: unique by (channel, business_number, subscriber).
  messages       {_id: message id, conversation_id, sid?, body, media, status,
                  send_began_at?, ...};
                 unique by sid and by (slack_channel, slack_ts), each where it is set.
  contacts       {_id: phone, name, fields: [{name, value}]}.
  canned         {_id: name, text}: canned responses.
  home_viewers   {_id: Slack user, filter}: who looks at the App Home, with which filter.
  jobs           {_id: key, kind, lane, seq, state, run_at, attempts, lease_token,
                  lease_until, rerun, ..., message?: <message document>}; the post job
                 of an inbound text and the send job of a reply carry the whole
                 message, which makes each the one durable write of `record_inbound`
                 and `record_outbound`; so does the send job of `record_system_text`.
  lanes          {_id: lane, lease_token, job_key, lease_until}: the lane's mutex.
  slack_posts    {_id: post key, channel, thread_ts, started_at, ts?, detail}: each post
                 into Slack, recorded before the call; kept a week (a TTL index).
  write_probes   {_id: "probe", at}: rewritten, after a refused write, to learn
                 that writes work again.
  consent_events {_id: ObjectId, seq, channel, business_number, subscriber, kind, granted,
                  source, at, evidence, ref}: the consent ledger, insert-only (nothing
                 here updates or deletes it). `seq` is the append order; a string
                 (ref, kind) is unique, which is how a known event is skipped.

Datetimes are BSON dates, which hold milliseconds: every datetime is truncated to
the millisecond on the way in (as the driver would) and the truncated value is what
the engine returns, so a value read back equals the one a call returned.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pymongo
from pymongo import ASCENDING, DESCENDING, AsyncMongoClient, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import (
    BulkWriteError,
    ConnectionFailure,
    DuplicateKeyError,
    NotPrimaryError,
    OperationFailure,
    PyMongoError,
    WriteConcernError,
)

from bridge.jobs import post_job, send_job
from bridge.models import (
    Channel,
    ConsentEvent,
    ConsentKind,
    ConsentSource,
    ConsentState,
    Contact,
    Conversation,
    ConversationPatch,
    ConversationStatus,
    DeliveryStatus,
    Direction,
    DraftState,
    InboundRecord,
    InboundSms,
    InboxFilter,
    Intent,
    Job,
    JobKind,
    JobState,
    KeywordMark,
    Media,
    Message,
    MessageDraft,
    MessagePurpose,
    NewJob,
    OutboundRecord,
    OutboundReply,
    PostAttempt,
    SendAttempt,
    SlackPost,
    Urgency,
    utcnow,
)
from bridge.store.base import StoreConflict, StoreUnavailable
from bridge.store.health import WriteHealth, watch_refusals

DEFAULT_DATABASE = "sms_bridge"
# How long opening waits for a server to answer: a wrong host or a stopped server is
# reported at start in seconds, not after the driver's 30 s server selection.
OPEN_SECONDS = 10

Doc = dict[str, Any]

_UNFINISHED = [JobState.PENDING.value, JobState.RUNNING.value]

_DUPLICATE_KEY = 11000
_OUT_OF_DISK_SPACE = 14031


def _ms(value: datetime) -> datetime:
    """UTC, truncated to the millisecond as BSON stores it. Naive values are taken
    as UTC, as PyMongo takes them."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    value = value.astimezone(UTC)
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


def _aware(value: datetime) -> datetime:
    # Clients without tz_aware=True (the default, and mongomock) return naive UTC.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _aware_or_none(value: datetime | None) -> datetime | None:
    return None if value is None else _aware(value)


def _due(now: datetime) -> Doc:
    """Pending and due, or running under a lease that ran out (its worker died)."""
    return {
        "$or": [
            {"state": JobState.PENDING.value, "run_at": {"$lte": now}},
            {"state": JobState.RUNNING.value, "lease_until": {"$lte": now}},
        ]
    }


def _is_due(doc: Doc, now: datetime) -> bool:
    if doc["state"] == JobState.PENDING.value:
        return bool(_aware(doc["run_at"]) <= now)
    lease_until = doc.get("lease_until")
    return (
        doc["state"] == JobState.RUNNING.value
        and lease_until is not None
        and _aware(lease_until) <= now
    )


def _addresses(channel: Channel, business_number: str, subscriber: str) -> Doc:
    """The fields that key a conversation, and a subscriber's consent."""
    return {"channel": channel.value, "business_number": business_number, "subscriber": subscriber}


def _conversation(doc: Doc) -> Conversation:
    return Conversation(
        id=doc["_id"],
        channel=Channel(doc.get("channel", Channel.SMS.value)),
        business_number=doc["business_number"],
        subscriber=doc["subscriber"],
        status=ConversationStatus(doc.get("status", ConversationStatus.OPEN.value)),
        assignee=doc.get("assignee"),
        flagged=bool(doc.get("flagged", False)),
        slack_channel=doc.get("slack_channel"),
        slack_thread_ts=doc.get("slack_thread_ts"),
        created_at=_aware(doc["created_at"]),
        last_activity_at=_aware(doc["last_activity_at"]),
        header_activity_at=_aware_or_none(doc.get("header_activity_at")),
        flag_reason=doc.get("flag_reason"),
        seen_at=_aware_or_none(doc.get("seen_at")),
        thread_epoch=int(doc.get("thread_epoch", 0)),
        last_inbound_at=_aware_or_none(doc.get("last_inbound_at")),
    )


def _patch_fields(patch: ConversationPatch) -> Doc:
    """The fields a patch sets (only those), as the conversation document holds them."""
    fields: Doc = {}
    for name in patch.model_fields_set:
        value = getattr(patch, name)
        if value is None and name in ("status", "flagged"):
            raise ValueError(f"a conversation's {name} cannot be None")
        if isinstance(value, datetime):
            value = _ms(value)
        elif isinstance(value, ConversationStatus):
            value = value.value
        fields[name] = value
    return fields


_OPEN = ConversationStatus.OPEN.value

# Each inbox's filter; every one is served by an index ending in the sort's keys.
_INBOXES: dict[InboxFilter, Doc] = {
    InboxFilter.ALL: {},
    InboxFilter.OPEN: {"status": _OPEN},
    InboxFilter.UNASSIGNED: {"status": _OPEN, "assignee": None},  # null or missing
    InboxFilter.FLAGGED: {"status": _OPEN, "flagged": True},
}

# Most recent activity first; ties by the newer conversation, as a fixed order.
_RECENT: list[tuple[str, int]] = [("last_activity_at", DESCENDING), ("_id", DESCENDING)]


def _message_doc(message: Message) -> Doc:
    doc: Doc = {
        "_id": message.id,
        "conversation_id": message.conversation_id,
        "direction": message.direction.value,
        "body": message.body,
        "media": [m.model_dump() for m in message.media],
        "created_at": _ms(message.created_at),
        "slack_channel": message.slack_channel,
        "slack_ts": message.slack_ts,
        "status": message.status.value,
        "error_code": message.error_code,
        "author": message.author,
        "media_posted": message.media_posted,
        "keyword": None if message.keyword is None else message.keyword.value,
        "purpose": message.purpose.value,
        "intent": message.intent,
        "urgency": message.urgency,
        "draft": None if message.draft is None else message.draft.model_dump(mode="json"),
        "shown_ts": message.shown_ts,
    }
    # A reply has no sid until it is sent: left out rather than null, as the jobs'
    # unique index on message.sid (partial on $exists) would count null as a value.
    if message.sid is not None:
        doc["sid"] = message.sid
    return doc


def _message(doc: Doc) -> Message:
    return Message(
        id=doc["_id"],
        conversation_id=doc["conversation_id"],
        direction=Direction(doc["direction"]),
        body=doc["body"],
        media=tuple(Media(**m) for m in doc.get("media", [])),
        sid=doc.get("sid"),
        created_at=_aware(doc["created_at"]),
        slack_channel=doc.get("slack_channel"),
        slack_ts=doc.get("slack_ts"),
        status=DeliveryStatus(doc.get("status", DeliveryStatus.RECEIVED.value)),
        error_code=doc.get("error_code"),
        author=doc.get("author"),
        media_posted=bool(doc.get("media_posted", False)),
        keyword=None if doc.get("keyword") is None else KeywordMark(doc["keyword"]),
        purpose=MessagePurpose(doc.get("purpose", MessagePurpose.REPLY.value)),
        intent=doc.get("intent"),
        urgency=doc.get("urgency"),
        draft=None if doc.get("draft") is None else MessageDraft.model_validate(doc["draft"]),
        shown_ts=doc.get("shown_ts"),
    )


def _consent_doc(event: ConsentEvent, seq: int) -> Doc:
    return {
        "seq": seq,
        "channel": event.channel.value,
        "business_number": event.business_number,
        "subscriber": event.subscriber,
        "kind": event.kind.value,
        "granted": event.granted,
        "source": event.source.value,
        "at": _ms(event.at),
        "evidence": event.evidence,
        "ref": event.ref,
    }


def _consent_event(doc: Doc) -> ConsentEvent:
    return ConsentEvent(
        channel=Channel(doc.get("channel", Channel.SMS.value)),
        business_number=doc["business_number"],
        subscriber=doc["subscriber"],
        kind=ConsentKind(doc["kind"]),
        granted=bool(doc["granted"]),
        source=ConsentSource(doc["source"]),
        at=_aware(doc["at"]),
        evidence=doc.get("evidence", ""),
        ref=doc.get("ref"),
    )


# Latest first: the deciding event of a kind; ties on `at` go to the later append.
_LATEST: list[tuple[str, int]] = [("at", DESCENDING), ("seq", DESCENDING)]


def _post(doc: Doc) -> SlackPost:
    return SlackPost(
        key=doc["_id"],
        channel=doc["channel"],
        thread_ts=doc.get("thread_ts"),
        started_at=_aware(doc["started_at"]),
        ts=doc.get("ts"),
        detail=doc.get("detail", ""),
    )


# Posts are looked up only while their job may run again; older records expire.
POST_RETENTION_SECONDS = 7 * 24 * 3600


def _job(doc: Doc) -> Job:
    return Job(
        key=doc["_id"],
        kind=JobKind(doc["kind"]),
        lane=doc["lane"],
        conversation_id=doc.get("conversation_id"),
        message_id=doc.get("message_id"),
        note=doc.get("note"),
        user=doc.get("user"),
        attempts=doc["attempts"],
        lease_token=doc["lease_token"],
        created_at=_aware(doc["created_at"]),
    )


def _refusal_of(error: Exception) -> tuple[str, str] | None:
    """What is wrong and where to look, if `error` means the server takes no writes now."""
    if isinstance(error, NotPrimaryError):  # before ConnectionFailure: it is one
        return "not primary", "the replica set has no primary (an election, or members down)"
    if isinstance(error, ConnectionFailure):
        return "unreachable", "check that the server runs and that this host reaches it"
    if isinstance(error, WriteConcernError):
        return "writes not acknowledged", "too few replica set members acknowledge writes"
    if isinstance(error, OperationFailure) and error.code == _OUT_OF_DISK_SPACE:
        return "disk full", "free space on the server's volume"
    return None


@watch_refusals
class MongoStore:
    def __init__(
        self,
        client: AsyncMongoClient[Any],
        database: str = DEFAULT_DATABASE,
        *,
        probe_seconds: float = 2.0,
    ) -> None:
        self._client = client
        self._db = client[database]
        self._name = database
        self._health = WriteHealth(self._refusal, self._probe, interval=probe_seconds)

    @classmethod
    def from_uri(cls, uri: str, **client_options: Any) -> MongoStore:
        """A store on its own client; the database is the URI's path, else
        "sms_bridge". Building the client does not connect: `open()` does."""
        client: AsyncMongoClient[Any] = AsyncMongoClient(uri, tz_aware=True, **client_options)
        return cls(client, client.get_default_database(DEFAULT_DATABASE).name)

    def _coll(self, name: str) -> AsyncCollection[Any]:
        return self._db[name]

    @property
    def _counters(self) -> AsyncCollection[Any]:
        return self._coll("counters")

    @property
    def _conversations(self) -> AsyncCollection[Any]:
        return self._coll("conversations")

    @property
    def _messages(self) -> AsyncCollection[Any]:
        return self._coll("messages")

    @property
    def _contacts(self) -> AsyncCollection[Any]:
        return self._coll("contacts")

    @property
    def _jobs(self) -> AsyncCollection[Any]:
        return self._coll("jobs")

    @property
    def _lanes(self) -> AsyncCollection[Any]:
        return self._coll("lanes")

    @property
    def _posts(self) -> AsyncCollection[Any]:
        return self._coll("slack_posts")

    @property
    def _consent_events(self) -> AsyncCollection[Any]:
        return self._coll("consent_events")

    @property
    def _canned(self) -> AsyncCollection[Any]:
        return self._coll("canned")

    @property
    def _home_viewers(self) -> AsyncCollection[Any]:
        return self._coll("home_viewers")

    async def open(self) -> None:
        try:
            with pymongo.timeout(OPEN_SECONDS):
                await self._db.command("ping")
            # Not bounded: building an index on a large collection takes its time.
            await self._create_indexes()
        except PyMongoError as exc:
            if isinstance(exc, ConnectionFailure) or exc.timeout:
                reason = f"no MongoDB server answered within {OPEN_SECONDS} s"
            else:
                reason = f"cannot open database {self._name!r}"
            raise StoreUnavailable(f"MONGODB_URI: {reason} ({_brief(exc)})") from None

    async def _migrate_to_channels(self) -> None:
        """Channels: every earlier conversation and consent entry was SMS, and the old
        unique (business_number, subscriber) index would refuse the same number on
        WhatsApp. Idempotent: every instance runs it at start-up."""
        for collection in (self._conversations, self._consent_events):
            await collection.update_many(
                {"channel": {"$exists": False}}, {"$set": {"channel": Channel.SMS.value}}
            )
        for collection, name in (
            (self._conversations, "business_number_1_subscriber_1"),
            (self._consent_events, "business_number_1_subscriber_1_kind_1_at_-1_seq_-1"),
        ):
            if name in await collection.index_information():
                with contextlib.suppress(OperationFailure):  # another instance was first
                    await collection.drop_index(name)

    async def _create_indexes(self) -> None:
        await self._migrate_to_channels()
        conversations, messages, jobs = self._conversations, self._messages, self._jobs
        await conversations.create_index(
            [("channel", ASCENDING), ("business_number", ASCENDING), ("subscriber", ASCENDING)],
            unique=True,
        )
        await conversations.create_index([("slack_channel", ASCENDING), ("slack_thread_ts", 1)])
        # The inboxes (list_conversations): equality fields, then the sort.
        await conversations.create_index(_RECENT)  # ALL
        await conversations.create_index([("status", ASCENDING), *_RECENT])  # OPEN
        await conversations.create_index(  # MINE, UNASSIGNED
            [("status", ASCENDING), ("assignee", ASCENDING), *_RECENT]
        )
        await conversations.create_index(  # FLAGGED
            [("status", ASCENDING), ("flagged", ASCENDING), *_RECENT]
        )
        # Outbound messages have no sid until the provider accepts them (null or
        # missing): only string sids are unique.
        await messages.create_index(
            [("sid", ASCENDING)], unique=True, partialFilterExpression={"sid": {"$type": "string"}}
        )
        await messages.create_index([("conversation_id", ASCENDING), ("created_at", ASCENDING)])
        # Inbound texts get their Slack ts when posted, replies have it from the start.
        await messages.create_index(
            [("slack_channel", ASCENDING), ("slack_ts", ASCENDING)],
            unique=True,
            partialFilterExpression={"slack_ts": {"$type": "string"}},
        )
        # While a post job is unfinished it is the only durable copy of its message
        # that is sure to exist: this index makes the sid unique across both.
        await jobs.create_index(
            [("message.sid", ASCENDING)],
            unique=True,
            partialFilterExpression={"message.sid": {"$exists": True}},
        )
        # The same for a reply's Slack (channel, ts) while its send job is unfinished.
        await jobs.create_index(
            [("message.slack_channel", ASCENDING), ("message.slack_ts", ASCENDING)],
            unique=True,
            partialFilterExpression={"message.slack_ts": {"$type": "string"}},
        )
        # $in in a partial filter needs MongoDB >= 6.0.
        await jobs.create_index(
            [("lane", ASCENDING), ("seq", ASCENDING)],
            partialFilterExpression={"state": {"$in": _UNFINISHED}},
        )
        await jobs.create_index([("state", ASCENDING), ("run_at", ASCENDING)])
        await jobs.create_index([("state", ASCENDING), ("lease_until", ASCENDING)])
        await jobs.create_index([("kind", ASCENDING), ("state", ASCENDING)])
        consent = self._consent_events
        # A known (ref, kind) is skipped; events without a ref are never deduplicated.
        await consent.create_index(
            [("ref", ASCENDING), ("kind", ASCENDING)],
            unique=True,
            partialFilterExpression={"ref": {"$type": "string"}},
        )
        await consent.create_index(
            [
                ("channel", ASCENDING),
                ("business_number", ASCENDING),
                ("subscriber", ASCENDING),
                ("kind", ASCENDING),
                *_LATEST,
            ]
        )
        await consent.create_index([("at", ASCENDING), ("seq", ASCENDING)])  # consent_log
        posts = self._posts
        await posts.create_index(
            [("channel", ASCENDING), ("started_at", ASCENDING)],
            partialFilterExpression={"ts": None},  # unsettled_posts
        )
        await posts.create_index(
            [("started_at", ASCENDING)], expireAfterSeconds=POST_RETENTION_SECONDS
        )

    async def close(self) -> None:
        await self._health.close()
        await self._client.close()

    async def ping(self) -> bool:
        if self.refusing is not None:
            return False
        try:
            await self._db.command("ping")
        except Exception:
            return False
        return True

    @property
    def refusing(self) -> StoreUnavailable | None:
        return self._health.refusing

    def _refusal(self, error: Exception) -> StoreUnavailable | None:
        found = _refusal_of(error)
        if found is None:
            return None
        reason, hint = found
        detail = str(error).splitlines()[0][:160] if str(error) else type(error).__name__
        return StoreUnavailable(
            f"MONGODB_URI: database {self._name!r} refuses writes: {reason} ({detail}); {hint}",
            reason=reason,
        )

    async def _probe(self) -> None:
        await self._coll("write_probes").update_one(
            {"_id": "probe"}, {"$set": {"at": _ms(utcnow())}}, upsert=True
        )

    async def _next(self, counter: str, count: int = 1) -> int:
        """The next number of `counter`; with `count`, the last of that many (the
        others are the `count - 1` before it)."""
        doc: Doc | None = await self._counters.find_one_and_update(
            {"_id": counter},
            {"$inc": {"n": count}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        assert doc is not None  # upsert with AFTER always returns the document
        return int(doc["n"])

    # --- conversations and messages -------------------------------------------------
    async def record_inbound(
        self, sms: InboundSms, *, keyword: KeywordMark | None = None
    ) -> InboundRecord:
        # (a) A known sid changes nothing.
        known = await self._known_inbound(sms.sid)
        if known is not None:
            return known
        at = _ms(sms.received_at)
        # (b) Open or touch the conversation. Repeating it is harmless: $max.
        conversation = await self._conversation_of(
            sms.channel, sms.business_number, sms.subscriber, at, touch=True
        )
        message = Message(
            id=uuid.uuid4().hex,
            conversation_id=conversation.id,
            direction=Direction.INBOUND,
            body=sms.body,
            media=sms.media,
            sid=sms.sid,
            created_at=at,
            keyword=keyword,
        )
        job = post_job(message)
        # (c) The durable write: the post job with the message inside it. The unique
        # index on message.sid lets exactly one of concurrent same-sid calls in.
        document = self._new_job_doc(job, seq=await self._next("jobs"), run_at=at)
        document["message"] = _message_doc(message)
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
            await self._jobs.delete_one({"_id": job.key, "state": JobState.PENDING.value})
            known = await self._known_inbound(sms.sid)
            if known is None:
                raise RuntimeError(f"sid {sms.sid} is taken but has no message")
            return known
        return InboundRecord(conversation=conversation, message=message, created=True)

    async def _known_inbound(self, sid: str) -> InboundRecord | None:
        doc = await self._find_message({"sid": sid})
        if doc is None:
            return None
        message = _message(doc)
        conversation = await self.get_conversation(message.conversation_id)
        if conversation is None:  # (b) is written before (c): cannot happen
            raise RuntimeError(f"message {message.id} has no conversation")
        return InboundRecord(conversation=conversation, message=message, created=False)

    async def _find_message(self, fields: Doc) -> Doc | None:
        """The message document with these (uniquely indexed) fields. If a crash left
        the message only in the job that carries it, it is stored here first."""
        doc: Doc | None = await self._messages.find_one(fields)
        if doc is not None:
            return doc
        job: Doc | None = await self._jobs.find_one(
            {f"message.{name}": value for name, value in fields.items()}
        )
        if job is None:
            return None
        # Read back: if it was stored meanwhile, it may have changed since. If not
        # stored, it is a late duplicate: another message holds these fields.
        stored = await self._ensure_message(job["message"])
        found: Doc | None = await self._messages.find_one(
            {"_id": job["message"]["_id"]} if stored else fields
        )
        if found is None:
            raise RuntimeError(f"{fields} is taken but has no message")
        return found

    async def _ensure_message(self, doc: Doc) -> bool:
        """Insert a message document unless it exists: the idempotent repair of (d).
        False if another message holds its sid or its Slack ts: this one is a late
        duplicate."""
        fields = {name: value for name, value in doc.items() if name != "_id"}
        try:
            await self._messages.update_one(
                {"_id": doc["_id"]}, {"$setOnInsert": fields}, upsert=True
            )
        except DuplicateKeyError:
            # On _id: a concurrent upsert of the same message won, which is all this
            # wanted. On sid or Slack ts: another message has it.
            found = await self._messages.find_one({"_id": doc["_id"]}, projection={"_id": True})
            return found is not None
        return True

    async def _conversation_of(
        self, channel: Channel, business_number: str, subscriber: str, at: datetime, *, touch: bool
    ) -> Conversation:
        """Find or open the conversation; with `touch` (a text from the subscriber), its
        activity and last text move on to `at` (never back)."""
        key = _addresses(channel, business_number, subscriber)
        while True:
            doc: Doc | None
            if touch:
                doc = await self._conversations.find_one_and_update(
                    key,
                    {"$max": {"last_activity_at": at, "last_inbound_at": at}},
                    return_document=ReturnDocument.AFTER,
                )
            else:
                doc = await self._conversations.find_one(key)
            if doc is not None:
                return _conversation(doc)
            # The next number: one more than the highest in use, so numbers are dense
            # (agents type them: #2). Two calls opening conversations at once may pick
            # the same one; the unique _id lets one in, and the other looks again (for
            # the same subscriber it then finds the conversation the first opened).
            highest: Doc | None = await self._conversations.find_one(
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
                "last_activity_at": at,
                "header_activity_at": None,
                "flag_reason": None,
                "seen_at": None,
                # Missing until a text comes (not null: mongomock cannot $max a null).
                **({"last_inbound_at": at} if touch else {}),
            }
            try:
                await self._conversations.insert_one(doc)
            except DuplicateKeyError:
                continue
            return _conversation(doc)

    async def get_conversation(self, conversation_id: int) -> Conversation | None:
        doc: Doc | None = await self._conversations.find_one({"_id": conversation_id})
        return None if doc is None else _conversation(doc)

    async def find_conversation(
        self, business_number: str, subscriber: str, channel: Channel = Channel.SMS
    ) -> Conversation | None:
        doc: Doc | None = await self._conversations.find_one(
            _addresses(channel, business_number, subscriber)
        )
        return None if doc is None else _conversation(doc)

    async def find_conversation_by_thread(
        self, channel: str, thread_ts: str
    ) -> Conversation | None:
        doc: Doc | None = await self._conversations.find_one(
            {"slack_channel": channel, "slack_thread_ts": thread_ts}
        )
        return None if doc is None else _conversation(doc)

    async def open_conversation(
        self, business_number: str, subscriber: str, channel: Channel = Channel.SMS
    ) -> Conversation:
        # The same path as record_inbound's (b), so both number conversations alike and
        # share one per (channel, business number, subscriber), without touching activity.
        return await self._conversation_of(
            channel, business_number, subscriber, _ms(utcnow()), touch=False
        )

    async def update_conversation(
        self, conversation_id: int, patch: ConversationPatch
    ) -> Conversation | None:
        fields = _patch_fields(patch)
        doc: Doc | None
        if fields:
            doc = await self._conversations.find_one_and_update(
                {"_id": conversation_id}, {"$set": fields}, return_document=ReturnDocument.AFTER
            )
        else:  # an empty $set is an error: nothing to change
            doc = await self._conversations.find_one({"_id": conversation_id})
        return None if doc is None else _conversation(doc)

    async def list_conversations(
        self, inbox: InboxFilter, *, user: str | None = None, limit: int = 50
    ) -> list[Conversation]:
        if limit <= 0:  # limit(0) means no limit to MongoDB
            return []
        if inbox is InboxFilter.MINE:
            if user is None:  # {"assignee": None} would be the unassigned ones
                return []
            query: Doc = {"status": _OPEN, "assignee": user}
        else:
            query = dict(_INBOXES[inbox])  # a copy: the shared one stays as it is
        cursor = self._conversations.find(query, sort=_RECENT, limit=limit)
        return [_conversation(doc) async for doc in cursor]

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
            {"_id": conversation_id}, {"$set": {"header_activity_at": _ms(activity_at)}}
        )

    async def get_message(self, message_id: str) -> Message | None:
        doc: Doc | None = await self._messages.find_one({"_id": message_id})
        return None if doc is None else _message(doc)

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
            await self.land_post(landing, ts)
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
        return None if doc is None else _message(doc)

    async def get_message_by_sid(self, sid: str) -> Message | None:
        doc = await self._find_message({"sid": sid})
        return None if doc is None else _message(doc)

    async def set_shown_ts(self, message_id: str, ts: str) -> None:
        await self._messages.update_one({"_id": message_id}, {"$set": {"shown_ts": ts}})

    async def mark_media_posted(self, message_id: str) -> None:
        await self._messages.update_one({"_id": message_id}, {"$set": {"media_posted": True}})

    async def recent_messages(
        self, conversation_id: int, *, limit: int, until: datetime | None = None
    ) -> list[Message]:
        query: Doc = {"conversation_id": conversation_id}
        if until is not None:
            query["created_at"] = {"$lte": _ms(until)}
        cursor = (
            self._messages.find(query)
            .sort([("created_at", DESCENDING), ("_id", DESCENDING)])
            .limit(limit)
        )
        return [_message(doc) for doc in reversed(await cursor.to_list())]

    # --- AI drafts ------------------------------------------------------------------
    async def save_draft(
        self, message_id: str, draft: MessageDraft, *, intent: Intent, urgency: Urgency
    ) -> Message | None:
        await self._messages.update_one(
            {"_id": message_id, "draft": None},  # null or missing: the first draft wins
            {
                "$set": {
                    "draft": draft.model_dump(mode="json"),
                    "intent": intent,
                    "urgency": urgency,
                }
            },
        )
        return await self.get_message(message_id)

    async def settle_draft(
        self,
        message_id: str,
        state: DraftState,
        *,
        by: str | None,
        at: datetime | None,
        expect: DraftState = DraftState.PROPOSED,
        sent_text: str | None = None,
        note: str | None = None,
    ) -> Message | None:
        change: Doc = {
            "draft.state": state.value,
            "draft.settled_by": by,
            "draft.settled_at": None if at is None else at.isoformat(),
            "draft.sent_text": sent_text,
        }
        if note is not None:
            change["draft.note"] = note
        doc: Doc | None = await self._messages.find_one_and_update(
            {"_id": message_id, "draft.state": expect.value},
            {"$set": change},
            return_document=ReturnDocument.AFTER,
        )
        return None if doc is None else _message(doc)

    async def set_draft_slack_ts(self, message_id: str, ts: str) -> None:
        await self._messages.update_one(
            {"_id": message_id, "draft": {"$ne": None}}, {"$set": {"draft.slack_ts": ts}}
        )

    # --- replies --------------------------------------------------------------------
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
            return OutboundRecord(message=_message(known), created=False)
        message = Message(
            id=uuid.uuid4().hex,
            conversation_id=reply.conversation_id,
            direction=Direction.OUTBOUND,
            body=reply.body,
            created_at=_ms(utcnow()),
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
            if not await self._ensure_message(_message_doc(message)):
                known = await self._find_message(slack)
                assert known is not None  # the ts that clashed belongs to it
                return OutboundRecord(message=_message(known), created=False)
            return OutboundRecord(message=message, created=True)
        # (c) The durable write: the send job with the message inside it. The unique
        # index on message.(slack_channel, slack_ts) lets exactly one of concurrent
        # calls for one Slack message in.
        document = self._new_job_doc(
            send_job(message), seq=await self._next("jobs"), run_at=_ms(send_at)
        )
        document["message"] = _message_doc(message)
        try:
            await self._jobs.insert_one(document)
        except DuplicateKeyError:
            known = await self._find_message(slack)
            if known is None:
                raise
            return OutboundRecord(message=_message(known), created=False)
        # (d) The message's own document, repaired like record_inbound's: by
        # `claim_jobs`, by a retry of this call and by `get_message_by_slack_ts`.
        if not await self._ensure_message(document["message"]):
            # A late duplicate (see record_inbound): withdraw its job.
            await self._jobs.delete_one({"_id": document["_id"], "state": JobState.PENDING.value})
            known = await self._find_message(slack)
            if known is None:
                raise RuntimeError(f"{slack} is taken but has no message")
            return OutboundRecord(message=_message(known), created=False)
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
        now = _ms(utcnow())
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
        document = self._new_job_doc(send_job(message), seq=await self._next("jobs"), run_at=now)
        # `written_by` names this call (the message model ignores it): the message
        # document, however it gets stored, tells whether it is this call's.
        written_by = uuid.uuid4().hex
        document["message"] = {**_message_doc(message), "written_by": written_by}
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
        released = _message(held).model_copy(
            update={"status": DeliveryStatus.QUEUED, "body": body, "purpose": purpose}
        )
        # Job first, carrying the released message: if the process dies before the
        # message is switched below, the job finds it still HELD, sends nothing, and
        # the agent's button still works. The job's _id lets one of two clicks in.
        document = self._new_job_doc(
            send_job(released), seq=await self._next("jobs"), run_at=_ms(send_at)
        )
        document["message"] = _message_doc(released)
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
            {"$set": {"status": DeliveryStatus.SENDING.value, "send_began_at": _ms(utcnow())}},
            return_document=ReturnDocument.AFTER,
        )
        if doc is not None:
            return SendAttempt(
                message=_message(doc), resumed=False, began_at=_aware(doc["send_began_at"])
            )
        # Not QUEUED (any more): SENDING is an attempt whose outcome is unknown.
        doc = await self._messages.find_one(
            {"_id": message_id, "status": DeliveryStatus.SENDING.value}
        )
        if doc is None:
            return None
        # Sending since before `send_began_at` was recorded: its creation is the bound.
        began = doc.get("send_began_at") or doc["created_at"]
        return SendAttempt(message=_message(doc), resumed=True, began_at=_aware(began))

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
        return _message(doc)

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
        return None if doc is None else _message(doc)

    # --- canned responses and App Home ---------------------------------------------
    async def add_usage(self, key: str, amount: int) -> int:
        doc: Doc | None = await self._coll("usage").find_one_and_update(
            {"_id": key},
            {"$inc": {"amount": amount}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        assert doc is not None  # upserted
        return int(doc["amount"])

    async def put_canned(self, name: str, text: str) -> None:
        await self._canned.replace_one({"_id": name}, {"text": text}, upsert=True)

    async def delete_canned(self, name: str) -> bool:
        result = await self._canned.delete_one({"_id": name})
        return result.deleted_count == 1

    async def list_canned(self) -> dict[str, str]:
        # Binary order of the UTF-8 names (no collation), as SQLite's.
        cursor = self._canned.find({}, sort=[("_id", ASCENDING)])
        return {doc["_id"]: doc["text"] async for doc in cursor}

    async def set_home_filter(self, user: str, inbox: InboxFilter) -> None:
        await self._home_viewers.replace_one({"_id": user}, {"filter": inbox.value}, upsert=True)

    async def home_viewers(self) -> dict[str, InboxFilter]:
        cursor = self._home_viewers.find({})
        return {doc["_id"]: InboxFilter(doc["filter"]) async for doc in cursor}

    async def get_contact(self, phone: str) -> Contact | None:
        doc: Doc | None = await self._contacts.find_one({"_id": phone})
        if doc is None:
            return None
        return Contact(
            phone=doc["_id"],
            name=doc.get("name"),
            fields={f["name"]: f["value"] for f in doc.get("fields", [])},
        )

    async def put_contact(self, contact: Contact) -> None:
        # Field names come from imported spreadsheets: as list items they may hold
        # "." or "$", which MongoDB field names may not do safely.
        await self._contacts.replace_one(
            {"_id": contact.phone},
            {
                "name": contact.name,
                "fields": [{"name": k, "value": v} for k, v in contact.fields.items()],
            },
            upsert=True,
        )

    # --- consent ------------------------------------------------------------------
    # Each event is one insert; there is no update or delete of the ledger anywhere in
    # this engine. Append order is a `seq` from the counters collection (ObjectIds
    # of several processes are not ordered within a second). A batch is not atomic:
    # after a crash in the middle, a retry skips the events with a ref that got in,
    # but appends those without a ref again (as would any repeat of them).

    async def record_consent(self, events: Sequence[ConsentEvent]) -> int:
        # Within the batch, the first of a (ref, kind) wins, as the later ones would
        # be skipped were they appended one by one.
        batch: list[ConsentEvent] = []
        seen: set[tuple[str, str]] = set()
        for event in events:
            if event.ref is not None:
                if (event.ref, event.kind.value) in seen:
                    continue
                seen.add((event.ref, event.kind.value))
            batch.append(event)
        if not batch:
            return 0
        last = await self._next("consent_events", len(batch))
        documents = [
            _consent_doc(event, seq) for seq, event in enumerate(batch, start=last - len(batch) + 1)
        ]
        try:
            await self._consent_events.insert_many(documents, ordered=False)
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            if any(error.get("code") != _DUPLICATE_KEY for error in errors):
                raise
            return int(exc.details.get("nInserted", len(batch) - len(errors)))
        return len(batch)

    async def consent_state(
        self, business_number: str, subscriber: str, channel: Channel = Channel.SMS
    ) -> ConsentState:
        latest: dict[ConsentKind, Doc] = {}
        for kind in ConsentKind:
            doc: Doc | None = await self._consent_events.find_one(
                _addresses(channel, business_number, subscriber) | {"kind": kind.value},
                projection={"granted": True, "at": True},
                sort=_LATEST,
            )
            if doc is not None:
                latest[kind] = doc
        conversational = latest.get(ConsentKind.CONVERSATIONAL)
        marketing = latest.get(ConsentKind.MARKETING)
        allowed = conversational is None or bool(conversational["granted"])
        return ConsentState(
            conversational=allowed,
            marketing=marketing is not None and bool(marketing["granted"]),
            revoked_at=None if allowed or conversational is None else _aware(conversational["at"]),
        )

    async def consent_log(self) -> list[ConsentEvent]:
        cursor = self._consent_events.find({}, sort=[("at", ASCENDING), ("seq", ASCENDING)])
        return [_consent_event(doc) async for doc in cursor]

    # --- posts into Slack ------------------------------------------------------------
    async def begin_post(
        self, key: str, channel: str, thread_ts: str | None, *, at: datetime, detail: str = ""
    ) -> PostAttempt:
        fresh: Doc = {
            "channel": channel,
            "thread_ts": thread_ts,
            "started_at": _ms(at),
            "ts": None,
            "detail": detail,
        }
        before: Doc | None = await self._posts.find_one_and_update(
            {"_id": key},
            {"$setOnInsert": fresh},
            upsert=True,
            return_document=ReturnDocument.BEFORE,
        )
        if before is None:
            return PostAttempt(post=_post({"_id": key, **fresh}), resumed=False)
        return PostAttempt(post=_post(before), resumed=True)

    async def land_post(self, key: str, ts: str) -> bool:
        result = await self._posts.update_one({"_id": key, "ts": None}, {"$set": {"ts": ts}})
        return result.matched_count == 1

    async def drop_post(self, key: str, *, started_at: datetime | None = None) -> None:
        match: Doc = {"_id": key, "ts": None}
        if started_at is not None:
            match["started_at"] = _ms(started_at)
        await self._posts.delete_one(match)

    async def unsettled_posts(self, channel: str) -> list[SlackPost]:
        cursor = self._posts.find(
            {"channel": channel, "ts": None}, sort=[("started_at", ASCENDING)]
        )
        return [_post(doc) async for doc in cursor]

    # --- the outbox -----------------------------------------------------------------
    # Lanes: jobs carry a `seq` from one global counter, and a lane runs its unfinished
    # job with the lowest seq. Allocating a seq and inserting the job are two writes,
    # so a claimer can see seq 6 before seq 5 exists; ordering by seq alone could then
    # run 5 and 6 at once. The `lanes` document is the lane's mutex: a claim takes it
    # (compare-and-set, leased like the job) before taking the job; extend_lease
    # renews both, and the lease holder gives the lane back when it completes, retries
    # or kills the job. A holder that dies gives it back by its lease running out, at
    # the same moment as the job's.
    #
    # Enqueueing a key that is running only sets the job's `rerun` mark; the run keeps
    # its lease and its lane. When that run completes, the job is pending again at the
    # lane's tail (and only then is the lane given back); a retry or a kill clears the
    # mark, as the job runs again anyway or gives up.

    def _new_job_doc(self, job: NewJob, *, seq: int, run_at: datetime) -> Doc:
        return {
            "_id": job.key,
            "kind": job.kind.value,
            "lane": job.lane,
            "conversation_id": job.conversation_id,
            "message_id": job.message_id,
            "created_at": run_at,
            **self._pending(job, seq=seq, run_at=run_at),
        }

    @staticmethod
    def _pending(job: NewJob, *, seq: int, run_at: datetime) -> Doc:
        return {
            "seq": seq,
            "state": JobState.PENDING.value,
            "run_at": run_at,
            "attempts": 0,
            "lease_token": None,
            "lease_until": None,
            "last_error": None,
            "rerun": False,
            "note": job.note,
            "user": job.user,
        }

    async def enqueue(self, job: NewJob, *, run_at: datetime) -> None:
        # A running key: left to its worker, marked to run once more.
        marked = await self._jobs.update_one(
            {"_id": job.key, "state": JobState.RUNNING.value}, {"$set": {"rerun": True}}
        )
        if marked.matched_count == 1:
            return
        at = _ms(run_at)
        seq = await self._next("jobs")  # wasted when the key is pending: gaps are fine
        new = self._new_job_doc(job, seq=seq, run_at=at)
        again = self._pending(job, seq=seq, run_at=at)
        # One write: a dead key is pending again at the lane's tail; a missing key is
        # inserted; a pending key fails the filter, and the upsert's insert then fails
        # on _id: that is the coalescing. So does a key claimed since the first write:
        # it was pending during this call, and its run starts after it.
        with contextlib.suppress(DuplicateKeyError):
            await self._jobs.update_one(
                {"_id": job.key, "state": JobState.DEAD.value},
                {
                    "$set": again,
                    "$setOnInsert": {k: v for k, v in new.items() if k != "_id" and k not in again},
                },
                upsert=True,
            )

    async def claim_jobs(
        self, owner: str, *, now: datetime, limit: int, lease_seconds: float
    ) -> list[Job]:
        now = _ms(now)
        lease_until = _ms(now + timedelta(seconds=lease_seconds))
        claimed: list[Job] = []
        seen: list[str] = []
        # Lanes in the order of their oldest due job, as SQLite orders by seq. One
        # query per lane keeps a long backlog in one lane from being read each time.
        while len(claimed) < limit:
            due: Doc | None = await self._jobs.find_one(
                {**_due(now), "lane": {"$nin": seen}},
                projection={"lane": True},
                sort=[("seq", ASCENDING)],
            )
            if due is None:
                break
            lane: str = due["lane"]
            seen.append(lane)
            head: Doc | None = await self._jobs.find_one(
                {"lane": lane, "state": {"$in": _UNFINISHED}}, sort=[("seq", ASCENDING)]
            )
            if head is None or not _is_due(head, now):
                continue  # the lane waits for its oldest job
            job = await self._claim(head, owner=owner, now=now, lease_until=lease_until)
            if job is not None:
                claimed.append(job)
        return claimed

    async def _claim(
        self, head: Doc, *, owner: str, now: datetime, lease_until: datetime
    ) -> Job | None:
        token = f"{owner}:{uuid.uuid4().hex}"
        lane = head["lane"]
        if not await self._take_lane(lane, head["_id"], token, now, lease_until):
            return None
        # seq in the filter: a job re-enqueued since we read it is no longer the head.
        doc: Doc | None = await self._jobs.find_one_and_update(
            {"_id": head["_id"], "seq": head["seq"], **_due(now)},
            {
                "$set": {
                    "state": JobState.RUNNING.value,
                    "lease_token": token,
                    "lease_until": lease_until,
                },
                "$inc": {"attempts": 1},
            },
            return_document=ReturnDocument.AFTER,
        )
        if doc is None:  # another claimer, or a complete, got there first
            await self._give_lane(lane, token)
            return None
        # record_inbound writes the job (with its message) before the message's own
        # document; if it crashed between the two, this is where the message comes
        # back, before any handler asks the store for it.
        if "message" in doc and not await self._ensure_message(doc["message"]):
            # A late duplicate of a text stored already (see record_inbound): drop it.
            await self._jobs.delete_one({"_id": doc["_id"], "lease_token": token})
            await self._give_lane(lane, token)
            return None
        return _job(doc)

    async def _take_lane(
        self, lane: str, key: str, token: str, now: datetime, lease_until: datetime
    ) -> bool:
        try:
            # Free (never held, given back, or its lease ran out): take it. Held: the
            # filter fails and the upsert's insert fails on _id.
            await self._lanes.update_one(
                {"_id": lane, "$or": [{"lease_token": None}, {"lease_until": {"$lte": now}}]},
                {"$set": {"lease_token": token, "job_key": key, "lease_until": lease_until}},
                upsert=True,
            )
        except DuplicateKeyError:
            return False
        return True

    async def _give_lane(self, lane: str, token: str) -> None:
        await self._lanes.update_one(
            {"_id": lane, "lease_token": token},
            {"$set": {"lease_token": None, "job_key": None, "lease_until": None}},
        )

    async def extend_lease(self, job: Job, *, until: datetime) -> bool:
        at = _ms(until)
        result = await self._jobs.update_one(
            {"_id": job.key, "lease_token": job.lease_token}, {"$set": {"lease_until": at}}
        )
        # The lane too: it stays this run's until the run ends (complete, retry, kill).
        await self._lanes.update_one(
            {"_id": job.lane, "lease_token": job.lease_token}, {"$set": {"lease_until": at}}
        )
        return result.matched_count == 1

    async def complete_job(self, job: Job) -> bool:
        owned = {"_id": job.key, "lease_token": job.lease_token}
        result = await self._jobs.delete_one({**owned, "rerun": {"$ne": True}})
        if result.deleted_count == 0:
            # Enqueued again while it ran (else its lease was lost, and this changes
            # nothing): pending again at the tail of its lane, attempts reset. Its
            # run_at stays: it was due when claimed, so it is due at once.
            seq = await self._next("jobs")
            await self._jobs.update_one(
                {**owned, "rerun": True},
                {
                    "$set": {
                        "seq": seq,
                        "state": JobState.PENDING.value,
                        "attempts": 0,
                        "rerun": False,
                        "lease_token": None,
                        "lease_until": None,
                    }
                },
            )
        # After the job's write: this run is over.
        await self._give_lane(job.lane, job.lease_token)
        return result.deleted_count == 1

    async def retry_job(
        self, job: Job, *, run_at: datetime, error: str, counted: bool = True
    ) -> bool:
        # The job keeps its seq: it stays the head and holds its lane until run_at.
        update: Doc = {
            "$set": {
                "state": JobState.PENDING.value,
                "run_at": _ms(run_at),
                "last_error": error,
                "lease_token": None,
                "lease_until": None,
                "rerun": False,  # it runs again anyway
            }
        }
        if not counted:
            update["$inc"] = {"attempts": -1}  # the claim counted it; take it back
        result = await self._jobs.update_one(
            {"_id": job.key, "lease_token": job.lease_token}, update
        )
        await self._give_lane(job.lane, job.lease_token)
        return result.matched_count == 1

    async def kill_job(self, job: Job, *, error: str) -> bool:
        result = await self._jobs.update_one(
            {"_id": job.key, "lease_token": job.lease_token},
            {
                "$set": {
                    "state": JobState.DEAD.value,
                    "last_error": error,
                    "lease_token": None,
                    "lease_until": None,
                    "rerun": False,
                }
            },
        )
        await self._give_lane(job.lane, job.lease_token)
        return result.matched_count == 1

    async def queue_depth(self) -> dict[str, int]:
        # count_documents per kind rather than an aggregate $group: kinds are few.
        depth: dict[str, int] = {}
        for kind in JobKind:
            count = await self._jobs.count_documents(
                {"kind": kind.value, "state": {"$ne": JobState.DEAD.value}}
            )
            if count:
                depth[kind.value] = count
        dead = await self._jobs.count_documents({"state": JobState.DEAD.value})
        if dead:
            depth["dead"] = dead
        return depth


def _brief(exc: PyMongoError) -> str:
    """The driver's reason without its topology dump or full server reply."""
    text = str(exc) or type(exc).__name__
    for tail in (" (configured timeouts", ", Timeout:", ", full error:"):
        text = text.split(tail, 1)[0]
    return text[:200]
