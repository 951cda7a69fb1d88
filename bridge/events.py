"""What the domain tells the rest of the bridge, as typed events: who changed a
conversation, what became of a reply, which job gave up. An event travels as the
payload of the outbox job that carries it, stored in the same write as the change;
`slack/` renders it and `notify/` routes it to people. Nothing here is in any edge's
format (no mrkdwn, no Twilio codes). Event names are those of INTERFACES.md's
notification rules (`message.received`, …)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, TypeAdapter, ValidationError

from bridge.models import Channel, Intent, KeywordMark, Message, Model, Urgency

# --- why a text did not go out ------------------------------------------------------


class FailureReason(StrEnum):
    """Why the provider did not deliver a text, in the domain's terms."""

    OPTED_OUT = "opted_out"  # the subscriber replied STOP to the carrier
    INVALID_NUMBER = "invalid_number"  # not a number that can receive texts
    UNREACHABLE = "unreachable"  # switched off, out of coverage, not in service
    BLOCKED = "blocked"  # the recipient or the carrier filters it
    RATE_LIMITED = "rate_limited"  # the sender's queue is full
    REJECTED = "rejected"  # the account or sender may not send it (registration, length)
    WINDOW_CLOSED = "window_closed"  # WhatsApp: only templates after 24 hours of silence
    UNKNOWN = "unknown"


class SendFailure(Model):
    """A provider's refusal or failed delivery, as the domain decides on it."""

    reason: FailureReason
    retryable: bool = False
    detail: str = "no reason given"  # the provider's meaning, in words for people
    code: int | None = None  # the provider's own code, kept for the log


class Refusal(Model):
    """The guard's no: the subscriber opted out, or has not agreed to marketing."""

    type: Literal["refusal"] = "refusal"
    opted_out: bool  # False: marketing without consent
    subscriber: str
    revoked_at: datetime | None = None
    promo: str | None = None  # the words that read like marketing, when they decided it


class TooLong(Model):
    type: Literal["too_long"] = "too_long"
    characters: int
    limit: int


class StillMarketing(Model):
    """A held reply's edit that still reads like marketing."""

    type: Literal["still_marketing"] = "still_marketing"
    promo: str


class Snag(StrEnum):
    """Problems that need no details to be told."""

    NOTHING_TO_SEND = "nothing_to_send"  # a command or button with no text
    WRITE_SOMETHING = "write_something"  # an empty edit of a held reply
    ALREADY_DECIDED = "already_decided"  # the held reply was sent or cancelled meanwhile
    EDIT_MADE_NOTE = "edit_made_note"
    EDIT_MADE_MARKETING = "edit_made_marketing"
    UNRECORDED = "unrecorded"  # sent maybe, but the store holds its id for another reply
    EMPTY_DRAFT = "empty_draft"  # an agent's edit of a draft left nothing
    NOT_A_MEMBER = "not_a_member"  # only members of the inbox may text customers
    WINDOW_CLOSED = "window_closed"  # WhatsApp: past 24 hours since the customer's last text


class Stopped(Model):
    type: Literal["stopped"] = "stopped"
    snag: Snag


Problem = Annotated[Refusal | TooLong | StillMarketing | Stopped, Field(discriminator="type")]
_PROBLEM: TypeAdapter[Problem] = TypeAdapter(Problem)


def dump_problem(problem: Problem) -> str:
    return _PROBLEM.dump_json(problem).decode()


def load_problem(text: str | None) -> Problem | None:
    """A problem stored as text (a draft's note); None for a note in words."""
    if not text or not text.startswith("{"):
        return None
    try:
        return _PROBLEM.validate_json(text)
    except ValidationError:
        return None


# --- the knowledge base (answers to `/sms kb`) ---------------------------------------


class KnowledgeStatus(Model):
    entries: int
    source: str | None  # the file or folder as shown (None: the config file only)


class KnowledgeReloaded(Model):
    entries: int
    warnings: int


class KnowledgeNotReloaded(Model):
    """A broken edit: the previous base stays."""

    where: str  # the file as shown
    line: int | None
    problem: str


# --- conversations ------------------------------------------------------------------


class ConversationOpened(Model):
    """A subscriber's first text opened a conversation."""

    type: Literal["conversation.opened"] = "conversation.opened"
    conversation_id: int
    channel: Channel
    business_number: str
    subscriber: str


class ConversationAssigned(Model):
    type: Literal["conversation.assigned"] = "conversation.assigned"
    conversation_id: int
    assignee: str
    by: str  # the assignee too, when they took it


class ConversationUnassigned(Model):
    type: Literal["conversation.unassigned"] = "conversation.unassigned"
    conversation_id: int
    assignee: str  # the one it was taken from
    by: str


class ConversationResolved(Model):
    type: Literal["conversation.resolved"] = "conversation.resolved"
    conversation_id: int
    by: str


class ConversationReopened(Model):
    type: Literal["conversation.reopened"] = "conversation.reopened"
    conversation_id: int
    by: str | None  # None: a new text from the subscriber reopened it
    subscriber: str


class ConversationFlagged(Model):
    type: Literal["conversation.flagged"] = "conversation.flagged"
    conversation_id: int
    by: str
    reason: str = ""


class ConversationUnflagged(Model):
    type: Literal["conversation.unflagged"] = "conversation.unflagged"
    conversation_id: int
    by: str


# --- messages and replies -----------------------------------------------------------


class MessageReceived(Model):
    """A subscriber's text was recorded (a keyword too: `keyword` says which)."""

    type: Literal["message.received"] = "message.received"
    conversation_id: int
    message_id: str
    subscriber: str
    body: str
    keyword: KeywordMark | None = None


class DraftReady(Model):
    """The assistant proposes a reply to a text: it waits for a person to send it."""

    type: Literal["draft.ready"] = "draft.ready"
    conversation_id: int
    message_id: str
    reply: str


class KeywordAnswered(Model):
    """The bridge texted back to a keyword (STOP, START, HELP) by itself."""

    type: Literal["message.keyword_answered"] = "message.keyword_answered"
    conversation_id: int
    body: str


class AwayReplySent(Model):
    """The bridge texted its away reply: the text came while the business was closed."""

    type: Literal["message.away_reply_sent"] = "message.away_reply_sent"
    conversation_id: int
    body: str
    next_open: datetime | None  # None: not known (away with no end)


class ReplySent(Model):
    """An agent sent a text by command or button (not a thread reply)."""

    type: Literal["reply.sent"] = "reply.sent"
    conversation_id: int
    author: str
    body: str
    canned: str | None = None  # the canned response it came from


class ReplyReleased(Model):
    """A held reply went out after all, as the author's support-only edit."""

    type: Literal["reply.released"] = "reply.released"
    conversation_id: int
    author: str
    body: str


class ReplyHeld(Model):
    """A reply reads like marketing to someone who did not agree to it: it waits for
    its author to edit it into a support-only reply or cancel it."""

    type: Literal["reply.held"] = "reply.held"
    conversation_id: int
    author: str
    message_id: str
    promo: str
    subscriber: str


class ReplyRefused(Model):
    """A reply (or an edit of one) did not go out, and why."""

    type: Literal["reply.refused"] = "reply.refused"
    conversation_id: int
    author: str
    problem: Problem
    edit: bool = False  # an edit inside the undo window cancelled the reply


class AttachmentsDropped(Model):
    """A reply's files stay in Slack: only its text goes out (no outbound MMS yet)."""

    type: Literal["reply.attachments_dropped"] = "reply.attachments_dropped"
    conversation_id: int
    author: str


class ReplyScheduled(Model):
    """A marketing text waits for daytime where the subscriber is."""

    type: Literal["reply.scheduled"] = "reply.scheduled"
    conversation_id: int
    author: str
    send_at: datetime


class ReplyCost(Model):
    """A reply costs more than one SMS segment."""

    type: Literal["reply.cost"] = "reply.cost"
    conversation_id: int
    author: str
    segments: int
    characters: int
    culprits: tuple[str, ...] = ()  # the characters that force the 70-character segments


class ReplyTooLate(Model):
    """An edit or a delete in Slack of a reply that already went out."""

    type: Literal["reply.too_late"] = "reply.too_late"
    conversation_id: int
    author: str
    change: Literal["edit", "delete"]


class DeliveryFailed(Model):
    type: Literal["delivery.failed"] = "delivery.failed"
    conversation_id: int
    message_id: str
    subscriber: str
    failure: SendFailure


class JobDied(Model):
    """A job gave up: a person must hear of what it carried."""

    type: Literal["job.dead"] = "job.dead"
    job: str  # its key
    error: str
    conversation_id: int | None = None
    message_id: str | None = None


class ConversationRouted(Model):
    """A conversation's thread went to a team's channel: by a routing rule when its
    first thread was made (`by` None), or moved there by a person (`/sms route`)."""

    type: Literal["conversation.routed"] = "conversation.routed"
    conversation_id: int
    team: str
    rule: str | None = None  # the rule that decided, in the config's terms ("rule 1: …")
    by: str | None = None
    earlier_thread: str | None = None  # a link to the thread it moved from


class MessageAssessed(Model):
    """The assistant read a subscriber's text: its intent and urgency are known (whether
    it drafted a reply, handed off, or could not draft). Notification rules on
    `message.received` are judged here when a draft comes."""

    type: Literal["message.assessed"] = "message.assessed"
    conversation_id: int
    message_id: str
    intent: Intent | None
    urgency: Urgency | None


class SlaBreached(Model):
    """A text waited longer than `notifications.sla` for its first answer: told once
    per wait, to the people `notify` names (Slack user and user group ids)."""

    type: Literal["sla.breached"] = "sla.breached"
    conversation_id: int
    message_id: str  # the first text of the wait
    since: datetime  # when the count began
    deadline: datetime
    minutes: int  # business minutes allowed
    notify: tuple[str, ...] = ()
    route: str | None = None  # the team it moves to (`escalate.route`)


class FeedbackLow(Model):
    """A subscriber rated a campaign's rating request 1 or 2: the notification rules see
    it as urgent (`feedback.low`), so the team hears of an unhappy customer at once."""

    type: Literal["feedback.low"] = "feedback.low"
    conversation_id: int
    campaign_id: str
    rating: int
    subscriber: str
    body: str  # what they wrote (its inbox message may not be recorded yet)


class TeachOffered(Model):
    """An agent answered a text the assistant had handed off: they may teach the
    assistant their answer (told to them alone, with the button that opens the dialog)."""

    type: Literal["teach.offered"] = "teach.offered"
    conversation_id: int
    author: str  # the agent who answered
    message_id: str  # the handed-off text


ConversationEvent = (
    ConversationOpened
    | ConversationAssigned
    | ConversationUnassigned
    | ConversationResolved
    | ConversationReopened
    | ConversationFlagged
    | ConversationUnflagged
)
ReplyEvent = (
    ReplySent
    | ReplyReleased
    | ReplyHeld
    | ReplyRefused
    | ReplyScheduled
    | ReplyCost
    | AttachmentsDropped
)
Event = Annotated[
    ConversationEvent
    | MessageReceived
    | DraftReady
    | ReplyEvent
    | ReplyTooLate
    | KeywordAnswered
    | AwayReplySent
    | DeliveryFailed
    | JobDied
    | ConversationRouted
    | MessageAssessed
    | SlaBreached
    | FeedbackLow
    | TeachOffered,
    Field(discriminator="type"),
]
_EVENT: TypeAdapter[Event] = TypeAdapter(Event)


def dump_event(event: Event) -> str:
    return event.model_dump_json()


def load_event(payload: str | None) -> Event | None:
    """The event a job carries; None for a payload of an earlier release (a ready
    text), which its handler still shows as it is."""
    if not payload or not payload.startswith("{"):
        return None
    try:
        return _EVENT.validate_json(payload)
    except ValidationError:
        return None


@dataclass(frozen=True)
class Publishing:
    """The event types some notifier wants (`Notifiers.publishing`). An event nobody
    wants is not published: no PUBLISH job, so a text's write stays one job when no
    notifier listens to `message.received` (the inbound hot path)."""

    wanted: frozenset[type[Model]] = field(default_factory=frozenset)
    # Texts whose `message.assessed` follows (the assistant drafts them), when every
    # notifier of `message.received` judges those on the assessment: their receipt is
    # not published as well. None: every received text is.
    assessed_later: Callable[[Message], bool] | None = None

    def wants(self, event: type[Model]) -> bool:
        return event in self.wanted

    def publishes_received(self, message: Message) -> bool:
        """Whether a text's `message.received` is published."""
        if MessageReceived not in self.wanted:
            return False
        return self.assessed_later is None or not self.assessed_later(message)
