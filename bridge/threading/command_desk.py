"""Runs `/sms` commands. The Slack edge parses nothing and decides nothing: it hands
over a `Command` and shows the `Reply` to the person who typed it. Who may run a
command, and the conversation it names, are checked here once for every command."""

from __future__ import annotations

from collections.abc import Sequence

from bridge.config import Business, SlackSection
from bridge.events import Problem
from bridge.models import Conversation, InboxFilter
from bridge.routing_settings import RoutingSection
from bridge.threading.commands import canned
from bridge.threading.commands.answers import AdminOnly, CannedProblem, Reply, Said
from bridge.threading.commands.grammar import Command, Target
from bridge.threading.commands.spec import (
    Call,
    CampaignControl,
    CommandStore,
    KnowledgeCommands,
    Permission,
    PushLinkMaker,
    Services,
    Spec,
)
from bridge.threading.commands.table import COMMANDS
from bridge.threading.conversation_desk import ConversationDesk
from bridge.threading.outbound import OutboundPipeline

PICKER_SIZE = 10


class CommandDesk:
    def __init__(
        self,
        store: CommandStore,
        desk: ConversationDesk,
        outbound: OutboundPipeline,
        *,
        business: Business,
        slack: SlackSection,
        business_number: str | None,
        knowledge: KnowledgeCommands | None = None,
        routing: RoutingSection | None = None,
        push_links: PushLinkMaker | None = None,
        campaigns: CampaignControl | None = None,
        commands: Sequence[Spec] = COMMANDS,
    ) -> None:
        self._services = Services(
            store,
            desk,
            outbound,
            business,
            business_number,
            knowledge,
            routing or RoutingSection(),
            push_links,
            campaigns,
        )
        self._commands = {spec.name: spec for spec in commands}
        self._admins = set(slack.admins)
        # Who may run what: each command's own permission, unless the setting lists them.
        listed = slack.admin_actions
        self._admin_only = {
            spec.name
            for spec in commands
            if (spec.name in listed if listed is not None else spec.permission is Permission.ADMIN)
        }

    def _may(self, spec: Spec, user: str) -> bool:
        return not self._admins or user in self._admins or spec.name not in self._admin_only

    @property
    def campaigns(self) -> CampaignControl | None:
        """The campaign desk, for the dialog that does what `/sms campaign` starts."""
        return self._services.campaigns

    def may(self, action: str, user: str) -> bool:
        """Whether `user` may run the command `action` (a dialog that does what a
        command does asks this too)."""
        return self._may(self._commands[action], user)

    async def find(self, target: Target) -> Conversation | None:
        services = self._services
        if target.number is not None:
            return await services.store.get_conversation(target.number)
        assert target.phone is not None
        if services.business_number is None:
            return None  # with only a Messaging Service, conversations are named by #id
        return await services.store.find_conversation(
            services.business_number, target.phone, target.channel
        )

    async def run(self, command: Command, user: str, *, key: str | None = None) -> Reply:
        """`key` identifies the trigger when it may be delivered twice (a reaction)."""
        spec = self._commands[command.action]
        if not self._may(spec, user):
            return Reply(AdminOnly(spec.name))
        found = None
        if spec.pickable:
            if command.target is None:
                recent = await self._services.store.list_conversations(
                    InboxFilter.OPEN, limit=PICKER_SIZE
                )
                return Reply(Said.WHICH_CONVERSATION, picker=tuple(recent))
            found = await self.find(command.target)
            if found is None:
                return Reply(Said.NO_SUCH_CONVERSATION)
        return Reply(await spec.run(Call(self._services, command, user, key, found)))

    async def preview(self, name: str, conversation: Conversation) -> str | CannedProblem:
        """A canned response as this subscriber would get it, or why it can't go out."""
        text, problem = await canned.render(self._services, name, conversation)
        return problem or text

    async def canned_problem(
        self, name: str, conversation: Conversation
    ) -> CannedProblem | Problem | None:
        return await canned.problem(self._services, name, conversation)
