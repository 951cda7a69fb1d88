"""Pydantic models shared by every layer. They import nothing of ours."""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime, time
from enum import StrEnum
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator


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


class DeliveryStatus(StrEnum):
    """Where a message stands. Inbound texts are RECEIVED; replies move forward from
    QUEUED and never back (status callbacks may arrive out of order)."""

    RECEIVED = "received"
    HELD = "held"  # stopped before queueing: waits for the agent's decision
    QUEUED = "queued"  # stored, waiting for the undo window and pacing
    SENDING = "sending"  # the attempt is recorded; Twilio's answer is not (yet)
    SENT = "sent"  # Twilio accepted it
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"
    CANCELLED = "cancelled"  # deleted in Slack within the undo window
    BLOCKED = "blocked"  # refused before sending (opted out)

    @property
    def rank(self) -> int:
        return _RANK[self]

    @property
    def final(self) -> bool:
        return self.rank >= 3


_RANK = {
    DeliveryStatus.RECEIVED: 0,
    DeliveryStatus.HELD: 0,
    DeliveryStatus.QUEUED: 0,
    DeliveryStatus.SENDING: 1,
    DeliveryStatus.SENT: 2,
    DeliveryStatus.DELIVERED: 3,
    DeliveryStatus.UNDELIVERED: 3,
    DeliveryStatus.FAILED: 3,
    DeliveryStatus.CANCELLED: 3,
    DeliveryStatus.BLOCKED: 3,
}


class Channel(StrEnum):
    """How a subscriber reaches the business. Both go through Twilio's Messages API."""

    SMS = "sms"
    WHATSAPP = "whatsapp"

    @property
    def label(self) -> str:
        return "WhatsApp" if self is Channel.WHATSAPP else "SMS"


class Address(Model):
    """A channel plus an identifier on it (an E.164 number for both channels so far):
    `sms:+14155550100`, `whatsapp:+14155550100`."""

    channel: Channel
    id: str

    def __str__(self) -> str:
        return f"{self.channel}:{self.id}"

    @classmethod
    def parse(cls, text: str) -> Address:
        """`channel:id`, Twilio's `whatsapp:+1…`; a bare identifier is an SMS number."""
        channel, identifier = split_address(text)
        return cls(channel=channel, id=identifier)


def split_address(text: str) -> tuple[Channel, str]:
    """(channel, identifier) of `channel:id` or a bare identifier (SMS), without a
    model: the inbound webhook reads two addresses per text."""
    prefix, colon, rest = text.strip().partition(":")
    if not colon:
        return Channel.SMS, prefix
    try:
        return Channel(prefix.lower()), rest.strip()
    except ValueError:
        raise ValueError(f"{prefix!r} is not a channel (sms, whatsapp)") from None


class Media(Model):
    url: str
    content_type: str


class InboundSms(Model):
    """A text a subscriber sent to one of the business's numbers, as Twilio reported it."""

    sid: str
    channel: Channel = Channel.SMS
    business_number: str
    subscriber: str
    body: str
    media: tuple[Media, ...] = ()
    received_at: datetime = Field(default_factory=utcnow)
    # Not Twilio's: the campaign text it replies to, as the campaigns read it.
    answers: str | None = None


class Contact(Model):
    phone: str
    name: str | None = None
    fields: dict[str, str] = Field(default_factory=dict)
    tags: tuple[str, ...] = ()  # lower case; routing rules and campaigns select by them


class Conversation(Model):
    """One subscriber talking to one business number on one channel: one Slack thread.
    The numbers are E.164 ids; with the channel they make the addresses."""

    id: int
    channel: Channel = Channel.SMS
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
    flag_reason: str | None = None
    seen_at: datetime | None = None  # someone marked it seen (:eyes:)
    # How many of its threads Slack reported gone: names the post of the next parent.
    thread_epoch: int = 0
    # The subscriber's latest text: WhatsApp allows free-form replies for 24 hours after.
    last_inbound_at: datetime | None = None
    team: str | None = None  # the routing team whose channel holds its thread

    @property
    def unread(self) -> bool:
        return self.seen_at is None or self.seen_at < self.last_activity_at

    @property
    def business_address(self) -> Address:
        return Address(channel=self.channel, id=self.business_number)

    @property
    def subscriber_address(self) -> Address:
        return Address(channel=self.channel, id=self.subscriber)


class ConversationPatch(Model):
    """A change to a conversation's state: only the fields given are changed (so
    `assignee=None` unassigns, while leaving it out keeps the assignee)."""

    status: ConversationStatus | None = None
    assignee: str | None = None
    flagged: bool | None = None
    flag_reason: str | None = None
    seen_at: datetime | None = None

    @model_validator(mode="after")
    def _required_stay_set(self) -> Self:
        for name in ("status", "flagged"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be cleared, only changed")
        return self


class InboxFilter(StrEnum):
    ALL = "all"
    OPEN = "open"
    MINE = "mine"
    UNASSIGNED = "unassigned"
    FLAGGED = "flagged"
    CAMPAIGNS = "campaigns"  # App Home's Campaigns tab: no conversation is listed


class Away(BaseModel):
    """The business closed by hand (`/sms away on`), for every number, until `until`
    (None: until someone turns it off)."""

    model_config = ConfigDict(frozen=True)

    since: datetime
    until: datetime | None = None
    by: str  # the Slack user who turned it on


class PushSubscription(Model):
    """A browser subscribed to one Slack user's notifications (Web Push), as its
    `PushSubscription.toJSON()` gave it: where to post, and the keys to encrypt with."""

    user: str
    endpoint: str
    p256dh: str  # the browser's P-256 public key, base64url
    auth: str  # its 16-byte authentication secret, base64url
    created_at: datetime


class MessagePurpose(StrEnum):
    """Why an outbound message exists; the guard treats each differently."""

    REPLY = "reply"  # an agent's reply (also inbound texts carry this default)
    MARKETING = "marketing"  # a promotional reply to a subscriber who agreed to marketing
    OPT_OUT_CONFIRMATION = "opt_out_confirmation"  # the one text allowed after a revocation
    OPT_IN_CONFIRMATION = "opt_in_confirmation"  # after START, when the bridge answers it
    HELP_REPLY = "help_reply"  # the business profile, answering HELP
    AWAY_REPLY = "away_reply"  # `hours.away_reply`, to a text that came while closed
    NOTICE = "notice"  # a support campaign's service notice: conversational consent suffices


class KeywordMark(StrEnum):
    """What the compliance keywords made of an inbound text."""

    OPT_OUT = "opt_out"  # STOP, UNSUBSCRIBE, …
    OPT_OUT_PHRASE = "opt_out_phrase"  # "please stop texting me": no carrier catches it
    OPT_IN = "opt_in"  # START, JOIN, UNSTOP
    HELP = "help"  # HELP, INFO
    MAYBE_OPT_OUT = "maybe_opt_out"  # an ordinary text, flagged for a human to read

    @property
    def replaces_post(self) -> bool:
        """Keywords are not inbox messages: the thread gets a system note instead."""
        return self is not KeywordMark.MAYBE_OPT_OUT


Intent = Literal["support", "sales", "appointment", "order", "feedback", "opt_out_request", "other"]
Urgency = Literal["low", "normal", "urgent"]


class DraftState(StrEnum):
    PROPOSED = "proposed"  # shown with Send / Edit / Discard
    HANDOFF = "handoff"  # no reply proposed: a person must answer
    SENT = "sent"  # an agent sent it as proposed
    EDITED = "edited"  # an agent sent an edited version
    AUTO_SENT = "auto_sent"  # the assistant sent it by itself (auto-reply mode)
    DISCARDED = "discarded"
    UNAVAILABLE = "unavailable"  # the engine failed; the card says so
    SUPERSEDED = "superseded"  # a newer text's draft answers the conversation now

    @property
    def open(self) -> bool:
        return self is DraftState.PROPOSED


def percent(share: float) -> str:
    """A share as a whole percentage, rounded down: a confidence of 0.849 is short of
    an 85 % threshold, and is not shown as 85 %."""
    return f"{math.floor(round(share * 100, 6))}%"


class MessageDraft(Model):
    """The assistant's draft for an inbound text, and what became of it."""

    reply: str | None
    confidence: float
    escalate: bool
    reason: str | None = None
    sources: tuple[str, ...] = ()
    appointment: str | None = None
    engine: str
    note: str | None = None  # e.g. why it was not sent automatically
    state: DraftState
    settled_by: str | None = None  # the Slack user who sent or discarded it
    settled_at: datetime | None = None
    sent_text: str | None = None  # what went out, when an agent edited the reply
    slack_ts: str | None = None  # its own Slack message, when it came after the text


# The author of what the assistant sends by itself (Slack user IDs are upper-case).
ASSISTANT = "assistant"
# The author of what the routing rules do by themselves (assigning a routed conversation).
ROUTING = "routing"
SLA_TIMER = "sla"  # who moves a conversation its first-response time escalated
FEEDBACK = "feedback"  # who flags and routes a conversation whose rating was low


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
    status: DeliveryStatus = DeliveryStatus.RECEIVED
    error_code: int | None = None
    author: str | None = None  # the Slack user who wrote a reply
    media_posted: bool = False  # MMS media attached in Slack (or its failure noted)
    keyword: KeywordMark | None = None
    purpose: MessagePurpose = MessagePurpose.REPLY
    # What the assistant made of an inbound text (for routing and notifications).
    intent: Intent | None = None
    urgency: Urgency | None = None
    draft: MessageDraft | None = None
    # Where in its thread a reply shows when that is not the agent's own message (a
    # draft's card, the note of a held reply sent as edited): its marks go there.
    shown_ts: str | None = None
    campaign_id: str | None = None  # a campaign's text (no Slack post, no inbox activity)
    # An inbound text's: the campaign text (a message id) it replies to; its post quotes it.
    answers: str | None = None

    @classmethod
    def received(
        cls,
        sms: InboundSms,
        conversation_id: int,
        keyword: KeywordMark | None,
        *,
        at: datetime | None = None,
    ) -> Message:
        """A subscriber's text as the inbox keeps it; `at` when the store keeps times
        coarser than Twilio's report."""
        return cls(
            id=uuid.uuid4().hex,
            conversation_id=conversation_id,
            direction=Direction.INBOUND,
            body=sms.body,
            media=sms.media,
            sid=sms.sid,
            created_at=at or sms.received_at,
            keyword=keyword,
            answers=sms.answers,
        )


class OutboundReply(Model):
    """An agent's reply in a thread, already in plain text, to be sent as SMS."""

    conversation_id: int
    body: str
    author: str
    slack_channel: str
    slack_ts: str


class OutboundRecord(Model):
    message: Message
    created: bool  # False: this Slack message was recorded before (an event retry)


class SendAttempt(Model):
    message: Message
    # An earlier attempt started and never recorded Twilio's answer: it may have sent.
    resumed: bool
    # When the first attempt began: a message the provider created before then is
    # not this reply's.
    began_at: datetime


class SlackPost(Model):
    """One post into Slack, recorded before the call: what makes every post happen once.
    Without `ts` it is an attempt whose outcome is unknown (the process died, or the
    answer was lost) until Slack's echo of it, a history read or time settles it."""

    key: str
    channel: str
    thread_ts: str | None
    started_at: datetime
    ts: str | None = None  # where it landed, once known
    detail: str = ""  # what the caller needs to know of a post it finds landed


class PostAttempt(Model):
    post: SlackPost
    # The key was recorded before: landed (`post.ts`), or an attempt of unknown outcome.
    resumed: bool


class ConsentKind(StrEnum):
    CONVERSATIONAL = "conversational"  # replies to the subscriber's own texts
    MARKETING = "marketing"  # promotions: needs prior express written consent


class ConsentSource(StrEnum):
    KEYWORD = "keyword"  # STOP, START, … texted by the subscriber
    PHRASE = "phrase"  # a plain-language revocation ("please stop texting me")
    IMPORT = "import"  # a contacts import that carried consent
    AGENT = "agent"  # recorded by a person in Slack
    CARRIER = "provider_21610"  # Twilio refused a send: the number replied STOP
    OPT_IN_REQUEST = "opt_in_request"  # YES to a campaign's opt-in request (evidence: which)


class ConsentEvent(Model):
    """One entry of the append-only consent ledger: about one subscriber address (an
    opt-out on WhatsApp says nothing about SMS to the same number)."""

    channel: Channel = Channel.SMS
    business_number: str
    subscriber: str
    kind: ConsentKind
    granted: bool
    source: ConsentSource
    at: datetime
    evidence: str = ""  # the text, file or person that carried it
    ref: str | None = None  # e.g. the MessageSid: recording it twice changes nothing


class ConsentState(Model):
    """Current consent, derived from the ledger. A subscriber who texts in is
    conversational by default; marketing needs an explicit grant."""

    conversational: bool = True
    marketing: bool = False
    revoked_at: datetime | None = None  # when conversational consent was withdrawn


class JobKind(StrEnum):
    POST_INBOUND = "post_inbound"  # post a subscriber's text into its thread
    SYNC_HEADER = "sync_header"  # re-render the thread's parent card
    REPORT_DEAD = "report_dead"  # (earlier releases) tell the inbox channel a job gave up
    SEND_SMS = "send_sms"  # send an agent's reply to the subscriber
    MARK_DELIVERY = "mark_delivery"  # show a reply's delivery state on its Slack message
    TELL_AGENT = "tell_agent"  # an ephemeral note to the author of a reply
    THREAD_NOTE = "thread_note"  # a system note in a conversation's thread
    CHANNEL_NOTE = "channel_note"  # a thread note also broadcast to the channel
    DIRECT_MESSAGE = "direct_message"  # (earlier releases) a DM to a person
    REFRESH_HOME = "refresh_home"  # re-publish the App Home inboxes
    POST_DRAFT = "post_draft"  # a draft that was not ready with its text, posted after it
    SYNC_DRAFT = "sync_draft"  # show a draft's new state (sent, discarded) on its card
    APPOINTMENT_WEBHOOK = "appointment_webhook"  # hand an appointment wish to the business
    PUBLISH = "publish"  # hand an event to the notifiers that want it
    NOTIFY = "notify"  # one notifier's delivery of one event
    ALERT = "alert"  # one notification by one channel (a DM, an email) to its people
    DIGEST = "digest"  # one person's digest of one channel for one period
    MOVE_THREAD = "move_thread"  # `/sms route`: a new parent in a team's channel
    ASSIGN_TEAM = "assign_team"  # a routed conversation, to one of its team's members
    CHECK_SLA = "check_sla"  # has a waiting text had its first answer in time?
    CAMPAIGN_PUMP = "campaign_pump"  # queue a campaign's next recipients at its sender's rate
    CAMPAIGN_PROGRESS = "campaign_progress"  # show a campaign's progress on its Slack message
    CAMPAIGN_RESULTS = "campaign_results"  # show a poll's or rating request's live results
    CLOSE_CAMPAIGN = "close_campaign"  # its answers' window is over: final results, chart
    FEEDBACK_REPORT = "feedback_report"  # post `/sms feedback report` and its chart


class JobState(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
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
    user: str | None = None  # a Slack user the job addresses


class Job(Model):
    """A claimed job. Jobs of one lane run one at a time, in enqueue order."""

    key: str
    kind: JobKind
    lane: str
    conversation_id: int | None = None
    message_id: str | None = None
    note: str | None = None
    user: str | None = None
    attempts: int
    lease_token: str
    created_at: datetime


class Rider(Model):
    """A text's POST_INBOUND job waiting behind another job of its lane: it may ride in
    that job's post (`BurstStore.waiting_behind`)."""

    key: str
    message: Message


class TextToPost(Model):
    """What the post job of an inbound text reads before it posts, in one read
    (`BurstStore.text_to_post`): the text, its conversation and the subscriber's contact
    (the name the text is posted under), each None when it is not in the store."""

    message: Message | None
    conversation: Conversation | None
    contact: Contact | None


class InboundRecord(Model):
    """What recording an inbound text did."""

    conversation: Conversation
    message: Message
    created: bool  # False: the MessageSid was already stored (a provider retry)


# --- notifications (`notify/`): what the rules send, and what waits for a digest ----


class Alert(Model):
    """Something people are told of, in plain words: each channel renders it (Slack
    escapes it, an email adds the HTML part)."""

    event: str  # the rules' name of what happened: message.received, sla.breached, …
    title: str  # one line
    text: str  # the details
    html: str | None = None
    urgent: bool = False
    conversation: Conversation | None = None  # as it was when the rules ran
    message_id: str | None = None
    body: str | None = None  # the customer's text, when it is about one
    at: datetime


class Delivery(Model):
    """What an ALERT job carries: one alert, by one channel, to its people (one person
    for a DM or an email; everyone to mention for a post in the thread)."""

    via: str
    to: tuple[str, ...]
    alert: Alert


class DigestPeriod(Model):
    """One digest: the alerts of one channel for one person (or "" for a shared channel:
    a post in the inbox, a webhook) that are due by `due`."""

    via: str
    to: str
    due: datetime


class DigestItem(Model):
    id: str  # the rules' run and the person make it: stored once
    period: DigestPeriod
    alert: Alert


class NotifyMode(StrEnum):
    ALL = "all"
    URGENT_ONLY = "urgent_only"  # the rest waits for the digest
    DIGEST_ONLY = "digest_only"
    MUTE = "mute"


class NotifyPreferences(Model):
    """A person's say over their own notifications (App Home). Quiet hours are in the
    business's time zone; alerts meanwhile wait for their end, as a digest."""

    mode: NotifyMode = NotifyMode.ALL
    quiet_from: time | None = None
    quiet_until: time | None = None


class ReportRequest(Model):
    """`/sms feedback report`: who asked, when, over how many weeks (a job's payload:
    a retry shows the report as it stood when asked)."""

    weeks: int
    by: str
    at: datetime


class LessonState(StrEnum):
    PENDING = "pending"  # waits for an admin in App Home
    APPROVED = "approved"  # written to learned.yml
    REJECTED = "rejected"


class Lesson(Model):
    """What an agent proposes to teach the assistant from their answer to a text it
    handed off: the customer's wording as another phrasing of entry `entry_id`, or (no
    `entry_id`) a new entry answering `question` with `answer`."""

    id: str  # the handed-off text's message id: one lesson per text
    conversation_id: int
    question: str  # the customer's wording (the agent may have tidied it)
    answer: str | None = None  # a new entry's answer; None: a phrasing of `entry_id`
    entry_id: str | None = None
    entry_title: str | None = None  # the entry's question when proposed (for the admin)
    proposed_by: str
    proposed_at: datetime
    state: LessonState = LessonState.PENDING
    decided_by: str | None = None
    decided_at: datetime | None = None


class DraftOutcome(StrEnum):
    """What an agent did with a draft that cited knowledge-base entries."""

    SENT = "sent"  # as proposed
    EDITED = "edited"
    DISCARDED = "discarded"


class EntryOutcomes(Model):
    """How agents treated the drafts one knowledge-base entry answered."""

    entry_id: str
    sent: int = 0
    edited: int = 0
    discarded: int = 0

    @property
    def corrected(self) -> int:
        return self.edited + self.discarded


class PaceTurn(Model):
    """A caller's turn for a paced key, from the store every process shares
    (`PaceStore.reserve_pace`). Seconds are counted from the store's now."""

    taken: bool  # the turn is the caller's; False: it was further off than allowed, only booked
    wait: float  # until that turn (taken), or until the turn to come back at (booked)
    free_in: float  # until a newcomer's turn would come, after this one
    held_for: float  # until the key's hold ends (a platform said to wait); 0: not held
