"""Who may act on the inbox: members of the inbox channel, and of a user group when
one is configured (conversations.members / usergroups.users.list, cached, so a
command costs no extra Slack call)."""

from __future__ import annotations

import time

from bridge.slack.gateway import SlackGateway

TTL_SECONDS = 300.0


class InboxMembers:
    def __init__(self, gateway: SlackGateway, channel: str, group: str | None = None) -> None:
        self._gateway = gateway
        self._channel = channel
        self._group = group
        self._members: frozenset[str] = frozenset()
        self._expires = 0.0

    async def allowed(self, user: str) -> bool:
        if time.monotonic() >= self._expires or user not in self._members:
            # A newcomer may have joined since the last look: one refresh, then trust it.
            await self._refresh()
        return user in self._members

    async def _refresh(self) -> None:
        members: set[str] = set()
        cursor = ""
        while True:
            data = await self._gateway.lookup(
                "conversations.members", channel=self._channel, limit="1000", cursor=cursor
            )
            if data is None or data.get("ok") is False:
                return  # Slack did not answer: keep what we knew
            members.update(str(m) for m in data.get("members", []))
            cursor = str((data.get("response_metadata") or {}).get("next_cursor") or "")
            if not cursor:
                break
        if self._group:
            data = await self._gateway.lookup("usergroups.users.list", usergroup=self._group)
            members.update(str(u) for u in (data or {}).get("users", []))
        self._members = frozenset(members)
        self._expires = time.monotonic() + TTL_SECONDS
