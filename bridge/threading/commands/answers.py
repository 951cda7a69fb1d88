"""What a `/sms` command answers, as typed outcomes: the Slack edge words them
(`slack/wording.py`) for the person who typed it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bridge.campaigns.feedback_report import FeedbackReport
from bridge.campaigns.models import Campaign, Progress
from bridge.events import KnowledgeNotReloaded, KnowledgeReloaded, KnowledgeStatus, Problem
from bridge.models import ConsentState, Contact, Conversation, EntryOutcomes
from bridge.threading.conversation_desk import Changed
from bridge.threading.opening_hours import Opening


class Said(StrEnum):
    """Answers that need no details to be told."""

    ASSISTANT_OFF = "assistant_off"  # `ai.enabled: false`
    NEEDS_FROM_NUMBER = "needs_from_number"  # /sms send without TWILIO_FROM_NUMBER
    WHICH_CONVERSATION = "which_conversation"  # with the picker
    NO_SUCH_CONVERSATION = "no_such_conversation"
    NO_CANNED = "no_canned"
    PUSH_OFF = "push_off"  # /sms push without notifications.web_push
    CAMPAIGN_DIALOG = "campaign_dialog"  # `/sms campaign`: the Slack edge opens its dialog
    CAMPAIGNS_OFF = "campaigns_off"  # nothing runs campaigns in this process


@dataclass(frozen=True)
class AdminOnly:
    action: str


@dataclass(frozen=True)
class HelpText:
    text: str  # plain text


@dataclass(frozen=True)
class StartedSending:
    phone: str
    conversation_id: int


@dataclass(frozen=True)
class CannedList:
    items: tuple[tuple[str, str], ...]  # (name, text)


@dataclass(frozen=True)
class CannedSaved:
    name: str


@dataclass(frozen=True)
class CannedRemoved:
    name: str
    removed: bool  # False: there was none of that name


@dataclass(frozen=True)
class CannedBroken:
    error: str  # the broken placeholder


@dataclass(frozen=True)
class CannedUnknown:
    name: str


@dataclass(frozen=True)
class CannedNeedsField:
    name: str
    field: str
    subscriber: str
    conversation_id: int


CannedProblem = CannedUnknown | CannedNeedsField


@dataclass(frozen=True)
class CannedSending:
    name: str
    conversation_id: int
    text: str


@dataclass(frozen=True)
class ContactCard:
    conversation_id: int
    contact: Contact
    consent: ConsentState


@dataclass(frozen=True)
class AwayState:
    """The away switch as it now stands, and the opening hours with it."""

    opening: Opening
    switched: str | None  # "on", "off", or None: only asked


@dataclass(frozen=True)
class AwayUnclear:
    text: str  # what followed `/sms away`


@dataclass(frozen=True)
class Rerouting:
    """`/sms route`: the move is on its way, or (`already`) the conversation is there."""

    conversation_id: int
    team: str
    already: bool = False


@dataclass(frozen=True)
class NoSuchTeam:
    name: str
    teams: tuple[str, ...]


@dataclass(frozen=True)
class PushLink:
    """`/sms push`: the person's own link to the browser-notifications page."""

    url: str
    minutes: int  # how long it works


@dataclass(frozen=True)
class FeedbackReported:
    """`/sms feedback report`: the report, which is being posted in the inbox channel."""

    report: FeedbackReport


@dataclass(frozen=True)
class WeeksUnclear:
    text: str  # what was typed after `feedback report`
    most: int


@dataclass(frozen=True)
class CampaignList:
    items: tuple[tuple[Campaign, Progress], ...]  # newest first


@dataclass(frozen=True)
class CampaignMove:
    """`/sms campaign pause|resume|cancel`: done, or not in a state it could be done in
    (`campaign` is then as it stands)."""

    campaign: Campaign
    action: str  # "pause", "resume" or "cancel"
    done: bool


@dataclass(frozen=True)
class NoSuchCampaign:
    campaign_id: str


@dataclass(frozen=True)
class KnowledgeCorrections:
    """`/sms kb corrections`: the entries agents corrected most, each with its title in
    the current base (None: no longer in it)."""

    entries: tuple[tuple[EntryOutcomes, str | None], ...]


Answer = (
    Said
    | AdminOnly
    | HelpText
    | StartedSending
    | CannedList
    | CannedSaved
    | CannedRemoved
    | CannedBroken
    | CannedProblem
    | CannedSending
    | ContactCard
    | Changed
    | KnowledgeStatus
    | KnowledgeReloaded
    | KnowledgeNotReloaded
    | KnowledgeCorrections
    | AwayState
    | AwayUnclear
    | Rerouting
    | NoSuchTeam
    | PushLink
    | CampaignList
    | CampaignMove
    | NoSuchCampaign
    | Problem
    | FeedbackReported
    | WeeksUnclear
)


@dataclass(frozen=True)
class Reply:
    """An ephemeral answer; `picker` lists conversations to choose from when the
    command named none."""

    answer: Answer
    picker: tuple[Conversation, ...] = ()
