"""A routed conversation's assignee: one of its team's members available now, by the
team's policy. `round_robin` takes turns from a per-team counter in the store (shared
by every process, so no turn is given twice); `least_open` picks whoever has the fewest
open conversations (ties: the first listed). The assignment goes through the desk, as
a person's would: the thread's note, the header, the assignee's DM."""

from __future__ import annotations

from typing import Protocol

from bridge.delivery.errors import GiveUp
from bridge.models import ROUTING, Job
from bridge.routing_settings import RoutingSection, Team
from bridge.store.base import ConversationStore, RoutingStore, UsageStore
from bridge.threading.conversation_desk import ConversationDesk


class TeamMembers(Protocol):
    """The Slack side: who is in a team, and who of them is around."""

    async def available(self, team: Team) -> list[str]:
        """The team's members (its user IDs, then its user group's) who are active now;
        all of them when none is (or Slack cannot say)."""


class _Store(ConversationStore, RoutingStore, UsageStore, Protocol):
    """The store roles this module uses."""


def turn_key(team: str) -> str:
    return f"routing-turn:{team}"


class TeamAssignment:
    """Job ASSIGN_TEAM."""

    def __init__(
        self,
        store: _Store,
        routing: RoutingSection,
        members: TeamMembers,
        desk: ConversationDesk,
    ) -> None:
        self._store = store
        self._teams = routing.teams
        self._members = members
        self._desk = desk

    async def __call__(self, job: Job) -> None:
        if job.conversation_id is None or job.note is None:
            raise GiveUp("team assignment without a conversation or team")
        team = self._teams.get(job.note)
        conversation = await self._store.get_conversation(job.conversation_id)
        if team is None or team.assign == "none" or conversation is None:
            return  # a team removed from the config since: nothing to do
        if conversation.assignee is not None or conversation.team != job.note:
            return  # someone took it already, or it moved on meanwhile
        members = await self._members.available(team)
        if not members:
            return
        if team.assign == "round_robin":
            turn = await self._store.add_usage(turn_key(job.note), 1)
            assignee = members[(turn - 1) % len(members)]
        else:
            counts = await self._store.open_assigned(members)
            assignee = min(members, key=lambda member: counts[member])
        await self._desk.assign(conversation, assignee, by=ROUTING)
