"""Documents and models: how MongoDB holds each model (datetimes truncated to
the millisecond, as BSON stores them), and the model of a document."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pymongo import DESCENDING

from bridge.campaigns.models import (
    Campaign,
    CampaignSpec,
    Recipient,
    RecipientState,
)
from bridge.models import (
    Channel,
    ConsentEvent,
    ConsentKind,
    ConsentSource,
    Contact,
    Conversation,
    ConversationPatch,
    ConversationStatus,
    DeliveryStatus,
    Direction,
    InboxFilter,
    Job,
    JobKind,
    JobState,
    KeywordMark,
    Media,
    Message,
    MessageDraft,
    MessagePurpose,
    NewJob,
    SlackPost,
)

Doc = dict[str, Any]

# A job's states while its lane waits for it.
UNFINISHED = [JobState.PENDING.value, JobState.RUNNING.value]


def ms(value: datetime) -> datetime:
    """UTC, truncated to the millisecond as BSON stores it. Naive values are taken
    as UTC, as PyMongo takes them."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    value = value.astimezone(UTC)
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


def aware(value: datetime) -> datetime:
    # Clients without tz_aware=True (the default, and mongomock) return naive UTC.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def aware_or_none(value: datetime | None) -> datetime | None:
    return None if value is None else aware(value)


def addresses(channel: Channel, business_number: str, subscriber: str) -> Doc:
    """The fields that key a conversation, and a subscriber's consent."""
    return {"channel": channel.value, "business_number": business_number, "subscriber": subscriber}


def conversation(doc: Doc) -> Conversation:
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
        created_at=aware(doc["created_at"]),
        last_activity_at=aware(doc["last_activity_at"]),
        header_activity_at=aware_or_none(doc.get("header_activity_at")),
        flag_reason=doc.get("flag_reason"),
        seen_at=aware_or_none(doc.get("seen_at")),
        thread_epoch=int(doc.get("thread_epoch", 0)),
        last_inbound_at=aware_or_none(doc.get("last_inbound_at")),
        team=doc.get("team"),
    )


def patch_fields(patch: ConversationPatch) -> Doc:
    """The fields a patch sets (only those), as the conversation document holds them."""
    fields: Doc = {}
    for name in patch.model_fields_set:
        value = getattr(patch, name)
        if value is None and name in ("status", "flagged"):
            raise ValueError(f"a conversation's {name} cannot be None")
        if isinstance(value, datetime):
            value = ms(value)
        elif isinstance(value, ConversationStatus):
            value = value.value
        fields[name] = value
    return fields


OPEN = ConversationStatus.OPEN.value


# Each inbox's filter; every one is served by an index ending in the sort's keys.
INBOXES: dict[InboxFilter, Doc] = {
    InboxFilter.ALL: {},
    InboxFilter.OPEN: {"status": OPEN},
    InboxFilter.UNASSIGNED: {"status": OPEN, "assignee": None},  # null or missing
    InboxFilter.FLAGGED: {"status": OPEN, "flagged": True},
}


# Most recent activity first; ties by the newer conversation, as a fixed order.
RECENT: list[tuple[str, int]] = [("last_activity_at", DESCENDING), ("_id", DESCENDING)]


def message_doc(message: Message) -> Doc:
    doc: Doc = {
        "_id": message.id,
        "conversation_id": message.conversation_id,
        "direction": message.direction.value,
        "body": message.body,
        "media": [m.model_dump() for m in message.media],
        "created_at": ms(message.created_at),
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
        "campaign_id": message.campaign_id,
        "answers": message.answers,
    }
    # A reply has no sid until it is sent: left out rather than null, as the jobs'
    # unique index on message.sid (partial on $exists) would count null as a value.
    if message.sid is not None:
        doc["sid"] = message.sid
    return doc


def message(doc: Doc) -> Message:
    return Message(
        id=doc["_id"],
        conversation_id=doc["conversation_id"],
        direction=Direction(doc["direction"]),
        body=doc["body"],
        media=tuple(Media(**m) for m in doc.get("media", [])),
        sid=doc.get("sid"),
        created_at=aware(doc["created_at"]),
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
        campaign_id=doc.get("campaign_id"),
        answers=doc.get("answers"),
    )


def contact(doc: Doc) -> Contact:
    return Contact(
        phone=doc["_id"],
        name=doc.get("name"),
        fields={f["name"]: f["value"] for f in doc.get("fields", [])},
        tags=tuple(doc.get("tags", ())),
    )


def consent_doc(event: ConsentEvent, seq: int) -> Doc:
    return {
        "seq": seq,
        "channel": event.channel.value,
        "business_number": event.business_number,
        "subscriber": event.subscriber,
        "kind": event.kind.value,
        "granted": event.granted,
        "source": event.source.value,
        "at": ms(event.at),
        "evidence": event.evidence,
        "ref": event.ref,
    }


def consent_event(doc: Doc) -> ConsentEvent:
    return ConsentEvent(
        channel=Channel(doc.get("channel", Channel.SMS.value)),
        business_number=doc["business_number"],
        subscriber=doc["subscriber"],
        kind=ConsentKind(doc["kind"]),
        granted=bool(doc["granted"]),
        source=ConsentSource(doc["source"]),
        at=aware(doc["at"]),
        evidence=doc.get("evidence", ""),
        ref=doc.get("ref"),
    )


# Latest first: the deciding event of a kind; ties on `at` go to the later append.
LATEST: list[tuple[str, int]] = [("at", DESCENDING), ("seq", DESCENDING)]


def post(doc: Doc) -> SlackPost:
    return SlackPost(
        key=doc["_id"],
        channel=doc["channel"],
        thread_ts=doc.get("thread_ts"),
        started_at=aware(doc["started_at"]),
        ts=doc.get("ts"),
        detail=doc.get("detail", ""),
    )


def job(doc: Doc) -> Job:
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
        created_at=aware(doc["created_at"]),
    )


def new_job_doc(job: NewJob, *, seq: int, run_at: datetime) -> Doc:
    return {
        "_id": job.key,
        "kind": job.kind.value,
        "lane": job.lane,
        "conversation_id": job.conversation_id,
        "message_id": job.message_id,
        "created_at": run_at,
        **pending(job, seq=seq, run_at=run_at),
    }


def pending(job: NewJob, *, seq: int, run_at: datetime) -> Doc:
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
        "head": True,  # until a claim finds an older job in its lane (jobs.py)
    }


# A campaign's times, kept as epoch milliseconds like every other.
CAMPAIGN_TIMES = ("created_at", "started_at", "finished_at", "closes_at")


def campaign(doc: Doc, spec: CampaignSpec) -> Campaign:
    fields = {name: doc.get(name) for name in Campaign.model_fields if name not in ("id", "spec")}
    for name in CAMPAIGN_TIMES:
        fields[name] = aware_or_none(doc.get(name))
    return Campaign.model_validate({**fields, "id": doc["_id"], "spec": spec})


def campaign_doc(campaign: Campaign) -> Doc:
    doc: Doc = campaign.model_dump(exclude={"id", "spec"}, mode="python")
    for name in CAMPAIGN_TIMES:
        doc[name] = None if doc[name] is None else ms(doc[name])
    doc["state"] = campaign.state.value
    return {"_id": campaign.id, "spec": campaign.spec.model_dump(mode="json"), **doc}


def recipient(doc: Doc) -> Recipient:
    return Recipient(
        campaign_id=doc["campaign_id"],
        subscriber=doc["subscriber"],
        state=RecipientState(doc["state"]),
        reason=doc.get("reason"),
        message_id=doc.get("message_id"),
        conversation_id=doc.get("conversation_id"),
    )
