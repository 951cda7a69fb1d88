"""Who may act on the inbox: members of the inbox channel, and of a user group when
one is configured, and the routing teams' people: their channels' members, their user
groups and their listed members (conversations.members / usergroups.users.list,
cached, so a command costs no extra Slack call). And a routing team's members as Slack knows them
now: its user IDs and its user group's users, those whose presence is active
(users.getPresence) — every member when none is, so a conversation is still assigned
at night; looked up at most every minute or few, so assigning rarely calls Slack."""

from __future__ import annotations

import time
from collections.abc import Sequence

from bridge.routing_settings import RoutingSection, Team
from bridge.slack.gateway import SlackGateway

TTL_SECONDS = 300.0


class InboxMembers:
    def __init__(
        self,
        gateway: SlackGateway,
        channel: str,
        group: str | None = None,
        routing: RoutingSection | None = None,
    ) -> None:
        self._gateway = gateway
        teams = (routing or RoutingSection()).teams.values()
        # A team works in its own channel: its people act on its threads as the inbox's do.
        self._channels = list(dict.fromkeys([channel, *(team.channel for team in teams)]))
        groups = [group, *(team.user_group for team in teams)]
        self._groups: Sequence[str] = [g for g in dict.fromkeys(groups) if g]
        self._listed = frozenset(member for team in teams for member in team.members)
        self._members: frozenset[str] = frozenset()
        self._expires = 0.0

    async def allowed(self, user: str) -> bool:
        if time.monotonic() >= self._expires or user not in self._members:
            # A newcomer may have joined since the last look: one refresh, then trust it.
            await self._refresh()
        return user in self._members

    async def _refresh(self) -> None:
        members: set[str] = set(self._listed)
        for channel in self._channels:
            cursor = ""
            while True:
                data = await self._gateway.lookup(
                    "conversations.members", channel=channel, limit="1000", cursor=cursor
                )
                if data is None or data.get("ok") is False:
                    return  # Slack did not answer: keep what we knew
                members.update(str(m) for m in data.get("members", []))
                cursor = str((data.get("response_metadata") or {}).get("next_cursor") or "")
                if not cursor:
                    break
        for group in self._groups:
            data = await self._gateway.lookup("usergroups.users.list", usergroup=group)
            members.update(str(u) for u in (data or {}).get("users", []))
        self._members = frozenset(members)
        self._expires = time.monotonic() + TTL_SECONDS


PRESENCE_TTL_SECONDS = 60.0


class SlackTeamMembers:
    def __init__(self, gateway: SlackGateway) -> None:
        self._gateway = gateway
        self._groups: dict[str, tuple[float, list[str]]] = {}
        self._presence: dict[str, tuple[float, bool]] = {}

    async def available(self, team: Team) -> list[str]:
        members = list(team.members)
        if team.user_group is not None:
            members += [u for u in await self._group(team.user_group) if u not in members]
        active = [member for member in members if await self._active(member)]
        return active or members

    async def _group(self, group: str) -> list[str]:
        cached = self._groups.get(group)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        data = await self._gateway.lookup("usergroups.users.list", usergroup=group)
        if data is None or data.get("ok") is False:
            return cached[1] if cached else []  # Slack did not answer: keep what we knew
        users = [str(user) for user in data.get("users", [])]
        self._groups[group] = (time.monotonic() + TTL_SECONDS, users)
        return users

    async def _active(self, user: str) -> bool:
        cached = self._presence.get(user)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        data = await self._gateway.lookup("users.getPresence", user=user)
        if data is None or data.get("ok") is False:
            return False  # unknown: the caller falls back to every member
        active = data.get("presence") == "active"
        self._presence[user] = (time.monotonic() + PRESENCE_TTL_SECONDS, active)
        return active
