"""Pydantic models shared by every layer. They import nothing of ours."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


def utcnow() -> datetime:
    return datetime.now(UTC)


class Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Direction(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class ConversationStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class Media(Model):
    url: str
    content_type: str


class InboundSms(Model):
    """A text a subscriber sent to one of the business's numbers, as Twilio reported it."""

    sid: str
    business_number: str
    subscriber: str
    body: str
    media: tuple[Media, ...] = ()
    received_at: datetime = Field(default_factory=utcnow)


class Contact(Model):
    phone: str
    name: str | None = None
    fields: dict[str, str] = Field(default_factory=dict)


class Conversation(Model):
    """One subscriber talking to one business number: one Slack thread."""

    id: int
    business_number: str
    subscriber: str
    status: ConversationStatus = ConversationStatus.OPEN
    assignee: str | None = None
    flagged: bool = False
    slack_channel: str | None = None
    slack_thread_ts: str | None = None
    created_at: datetime
    last_activity_at: datetime
    # The last-activity time the Slack header card shows; lets inbound texts skip
    # header refreshes that would only move that time by a little.
    header_activity_at: datetime | None = None


class Message(Model):
    id: str
    conversation_id: int
    direction: Direction
    body: str
    media: tuple[Media, ...] = ()
    sid: str | None = None
    created_at: datetime
    slack_channel: str | None = None
    slack_ts: str | None = None


class JobKind(StrEnum):
    POST_INBOUND = "post_inbound"  # post a subscriber's text into its thread
    SYNC_HEADER = "sync_header"  # re-render the thread's parent card
    REPORT_DEAD = "report_dead"  # tell the inbox channel a job gave up


def conversation_lane(conversation_id: int) -> str:
    """The lane that keeps one conversation's Slack effects in order."""
    return f"conversation:{conversation_id}"


class JobState(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    DEAD = "dead"


class NewJob(Model):
    """A job to enqueue. `key` is unique: enqueueing an existing key is a no-op
    (or, for a finished job, runs it again)."""

    key: str
    kind: JobKind
    lane: str
    conversation_id: int | None = None
    message_id: str | None = None
    note: str | None = None


class Job(Model):
    """A claimed job. Jobs of one lane run one at a time, in enqueue order."""

    key: str
    kind: JobKind
    lane: str
    conversation_id: int | None = None
    message_id: str | None = None
    note: str | None = None
    attempts: int
    lease_token: str
    created_at: datetime


class InboundRecord(Model):
    """What recording an inbound text did."""

    conversation: Conversation
    message: Message
    created: bool  # False: the MessageSid was already stored (a provider retry)


class DeadJob(Model):
    key: str
    kind: JobKind
    conversation_id: int | None
    message_id: str | None
    error: str
