"""Who is behind a target: a user group's members (usergroups.users.list) and a
person's email address (`notifications.people`, else their Slack profile), cached."""

from __future__ import annotations

import time

from bridge.notification_settings import NotificationsSection
from bridge.section import is_group
from bridge.slack.gateway import SlackGateway
from bridge.slack.names import SlackNames

TTL_SECONDS = 300.0


class Recipients:
    def __init__(
        self, gateway: SlackGateway, names: SlackNames, settings: NotificationsSection
    ) -> None:
        self._gateway = gateway
        self._names = names
        self._settings = settings
        self._groups: dict[str, tuple[float, tuple[str, ...]]] = {}

    async def users(self, targets: tuple[str, ...]) -> tuple[str, ...]:
        """The people of `targets`, user groups expanded, each once, in order."""
        found: dict[str, None] = {}
        for target in targets:
            for user in await self._members(target) if is_group(target) else (target,):
                found[user] = None
        return tuple(found)

    async def email(self, user: str) -> str | None:
        configured = self._settings.email_of(user)
        if configured is not None:
            return configured
        person = await self._names.person(user)
        return person.email if person else None

    async def name(self, user: str) -> str | None:
        return await self._names.user(user)

    async def _members(self, group: str) -> tuple[str, ...]:
        hit = self._groups.get(group)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        data = await self._gateway.lookup("usergroups.users.list", usergroup=group)
        if data is None:
            return hit[1] if hit else ()  # Slack did not answer: what we knew
        members = tuple(str(u) for u in data.get("users", []))
        self._groups[group] = (time.monotonic() + TTL_SECONDS, members)
        return members
