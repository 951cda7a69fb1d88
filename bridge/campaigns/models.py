"""What a campaign is: who it goes to, what it says, which answers it waits for, and
where it stands. Shared by the campaign desk, the store and the edges that show it."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal

from pydantic import Field

from bridge.models import Channel, ConsentKind, DeliveryStatus, Model

# A campaign that takes no answers still has its text quoted by replies this soon.
QUOTE_WINDOW = timedelta(hours=24)


class CampaignKind(StrEnum):
    MARKETING = "marketing"  # marketing consent and 08:00-21:00 recipient time apply
    SUPPORT = "support"  # a service notice: conversational consent (not opted out) suffices


class CampaignState(StrEnum):
    SCHEDULED = "scheduled"  # waits for `send_at`
    SENDING = "sending"
    PAUSED = "paused"
    CANCELLED = "cancelled"
    DONE = "done"  # every recipient queued or skipped; answers may still come in

    @property
    def running(self) -> bool:
        return self in (CampaignState.SCHEDULED, CampaignState.SENDING, CampaignState.PAUSED)


class Audience(Model):
    """The union of these; then the consent and quiet-hours rules."""

    tags: tuple[str, ...] = ()  # contacts with any of these tags (lower case)
    numbers: tuple[str, ...] = ()  # E.164
    segment: str | None = None  # a saved segment's name (`campaigns.segments`)


class Segment(Model):
    """A saved filter over contacts; every condition set must hold."""

    tags: tuple[str, ...] = ()  # any of these
    fields: dict[str, str] = Field(default_factory=dict)  # field == value (case-insensitive)
    consent: ConsentKind | None = None  # granted now, for the campaign's business number
    active_within_days: int | None = None  # texted us within this many days
    inactive_for_days: int | None = None  # and not for at least this many
    business_number: str | None = None  # has a conversation with this number


class Poll(Model):
    options: dict[str, str]  # letter → label, in order: {"A": "Mango", …}
    open_hours: float = 24
    votes: Literal["last", "first"] = "last"  # which of a subscriber's votes counts
    confirm: str | None = None  # texted after a counted vote; may say {choice} and {label}


class Feedback(Model):
    """A 1-5 rating request: 1-2 alert the team, 3 asks `follow_up`, 4-5 get the
    review link (once per subscriber per `review_every_days`)."""

    review_link: str | None = None
    review_text: str = "Thank you! Would you share it in a review? {review_link}"
    review_every_days: int = 90
    follow_up: str | None = None
    confirm: str | None = None
    open_hours: float = 72
    # The routing team a 1-2 goes to; None: "support" when `routing.teams` has it.
    route: str | None = None


class OptInRequest(Model):
    """An opt-in request ("Reply YES to get offers"): YES within its window is marketing
    consent, recorded with the campaign as its source."""

    keyword: str = "YES"
    confirm: str | None = None
    open_hours: float = 72


class CampaignSpec(Model):
    """A campaign as an operator writes it (a file's keys, the modal's fields)."""

    name: str
    kind: CampaignKind = CampaignKind.MARKETING
    from_number: str  # the business number it is sent from
    to: Audience
    text: str  # with {placeholders}: a contact's name, first_name, fields, business_name
    poll: Poll | None = None
    feedback: Feedback | None = None
    opt_in: OptInRequest | None = None
    send_at: datetime | None = None  # None: now
    channel: Channel = Channel.SMS


class Campaign(Model):
    id: str  # short, url-safe, unique
    spec: CampaignSpec
    state: CampaignState
    created_by: str  # a Slack user, or "cli"
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None  # every recipient queued or skipped
    closes_at: datetime | None = None  # answers are taken until then (poll, feedback, opt-in)
    closed: bool = False  # the answers' window is over and its results are final
    slack_channel: str | None = None  # where its progress and results messages are
    progress_ts: str | None = None
    results_ts: str | None = None


class RecipientState(StrEnum):
    PENDING = "pending"  # not yet queued
    QUEUED = "queued"  # its text is a message with a send job (its status says the rest)
    SKIPPED = "skipped"  # no consent, opted out, or an unknown placeholder value


class Recipient(Model):
    campaign_id: str
    subscriber: str
    state: RecipientState = RecipientState.PENDING
    reason: str | None = None  # why it was skipped
    message_id: str | None = None  # its text, once queued
    conversation_id: int | None = None


class Progress(Model):
    """A campaign's counts, from its recipients and their texts' delivery states."""

    total: int = 0
    pending: int = 0
    queued: int = 0  # queued and not sent yet
    sent: int = 0  # accepted by the provider (delivered ones included)
    delivered: int = 0
    failed: int = 0  # failed or undelivered
    blocked: int = 0  # refused at send time: opted out since
    skipped: int = 0
    opted_out_since: int = 0  # recipients who opted out after the campaign began

    @property
    def finished(self) -> int:
        return self.sent + self.failed + self.blocked + self.skipped

    @classmethod
    def count(
        cls, states: dict[str, int], statuses: dict[str, int], *, opted_out_since: int
    ) -> Progress:
        """From recipients by state and their texts by status (what engines count)."""

        def of(*names: DeliveryStatus) -> int:
            return sum(statuses.get(name.value, 0) for name in names)

        return cls(
            total=sum(states.values()),
            pending=states.get(RecipientState.PENDING.value, 0),
            skipped=states.get(RecipientState.SKIPPED.value, 0),
            queued=of(DeliveryStatus.QUEUED, DeliveryStatus.SENDING),
            # Undelivered texts were accepted first; failed ones may never have been.
            sent=of(DeliveryStatus.SENT, DeliveryStatus.DELIVERED, DeliveryStatus.UNDELIVERED),
            delivered=of(DeliveryStatus.DELIVERED),
            failed=of(DeliveryStatus.FAILED, DeliveryStatus.UNDELIVERED),
            blocked=of(DeliveryStatus.BLOCKED),
            opted_out_since=opted_out_since,
        )


class Answer(Model):
    """One subscriber's answer to a campaign's poll, rating or opt-in request."""

    campaign_id: str
    subscriber: str
    choice: str  # a poll option's letter, a rating "1"-"5", or "yes"
    text: str  # what they wrote
    sid: str  # the inbound MessageSid: recording it twice changes nothing
    at: datetime


class Tally(Model):
    """Counted answers: one per subscriber (the campaign's `votes` rule)."""

    counts: dict[str, int] = Field(default_factory=dict)  # choice → subscribers
    total: int = 0
