"""A `/sms` command's declaration (`Spec`) and what its handler gets (`Call`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from bridge.campaigns.desk import Plan
from bridge.campaigns.models import Campaign, CampaignSpec
from bridge.config import Business
from bridge.events import KnowledgeNotReloaded, KnowledgeReloaded, KnowledgeStatus
from bridge.models import Conversation
from bridge.routing_settings import RoutingSection
from bridge.store.base import (
    AwayStore,
    CampaignStore,
    CannedStore,
    ConsentStore,
    ContactStore,
    ConversationStore,
    DraftTallyStore,
    FeedbackStore,
    JobStore,
)
from bridge.threading.commands.answers import Answer
from bridge.threading.commands.grammar import MAX_TEXT, Arg, Command
from bridge.threading.conversation_desk import ConversationDesk
from bridge.threading.outbound import OutboundPipeline


class CommandStore(
    ConversationStore,
    ConsentStore,
    ContactStore,
    CannedStore,
    AwayStore,
    JobStore,
    FeedbackStore,
    CampaignStore,
    DraftTallyStore,
    Protocol,
):
    """The store roles the `/sms` commands use."""


class KnowledgeCommands(Protocol):
    """`/sms kb` and `/sms kb reload`, answered by the assistant (passed in, so
    conversations never import it)."""

    def status(self) -> KnowledgeStatus: ...

    async def reload(self) -> KnowledgeReloaded | KnowledgeNotReloaded: ...

    def title(self, entry_id: str) -> str | None:
        """An entry's question or heading in the current base (None: not in it)."""


class PushLinkMaker(Protocol):
    """`/sms push`: signed links to the browser-notifications page, made by `notify/`
    (passed in, so conversations never import it)."""

    @property
    def minutes(self) -> int: ...

    def link(self, user: str, *, now: datetime) -> str: ...


class CampaignControl(Protocol):
    """`/sms campaign` and its dialog, acted by the campaign desk (passed in). Each
    raises `CampaignError` for what the person must fix (or a state it cannot be in)."""

    async def check(self, spec: CampaignSpec) -> None:
        """The campaign as written, without reading its audience (quick)."""

    async def plan(self, spec: CampaignSpec) -> Plan:
        """What the campaign would do, without a write."""

    async def create(self, spec: CampaignSpec, *, by: str) -> Campaign: ...

    async def pause(self, campaign_id: str, *, by: str) -> Campaign: ...

    async def resume(self, campaign_id: str, *, by: str) -> Campaign: ...

    async def cancel(self, campaign_id: str, *, by: str) -> Campaign: ...

    async def close(self, campaign_id: str, *, by: str) -> Campaign:
        """Its answers' window ends now (final results follow)."""


@dataclass(frozen=True)
class Services:
    """What the commands act through."""

    store: CommandStore
    desk: ConversationDesk
    outbound: OutboundPipeline
    business: Business
    # New conversations (/sms send) and phone-number targets use this number.
    business_number: str | None
    knowledge: KnowledgeCommands | None
    routing: RoutingSection
    push_links: PushLinkMaker | None = None  # None: notifications.web_push is not set
    campaigns: CampaignControl | None = None  # None: campaigns are not run here


@dataclass(frozen=True)
class Call:
    """One run of a command: who asked, and the conversation it names, found."""

    services: Services
    command: Command
    user: str
    key: str | None  # identifies a trigger Slack may deliver twice (a reaction)
    found: Conversation | None = None

    @property
    def conversation(self) -> Conversation:
        """The conversation of a command that takes a <target> (found before it runs)."""
        assert self.found is not None, self.command.action
        return self.found


class Permission(StrEnum):
    MEMBER = "member"  # every member of the inbox
    ADMIN = "admin"  # only `slack.admins`, when that list is set


Handler = Callable[[Call], Awaitable[Answer]]


@dataclass(frozen=True)
class Spec:
    """One `/sms` command: its name, its words and arguments, what it does (for
    `/sms help`), who may run it, and its handler. A command that takes a <target>
    may be run from the picker on a conversation chosen afterwards."""

    name: str
    words: str
    run: Handler
    args: tuple[Arg, ...] = ()
    does: str = ""
    example: str = ""  # a text that parses as this command (the tests check it)
    permission: Permission = Permission.MEMBER
    limit: tuple[int, str] = (MAX_TEXT, "A text")  # the bound of its free text
    alone: tuple[str, ...] = ()  # texts that, typed alone, mean this command
    lenient: bool = False  # words after it are ignored rather than refused

    @property
    def pickable(self) -> bool:
        return Arg.TARGET in self.args
