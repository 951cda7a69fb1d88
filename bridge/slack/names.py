"""Names for Slack ids, cached: mentions in a reply become names in the SMS without
a users.info call per message."""

from __future__ import annotations

import time

from bridge.slack.gateway import SlackGateway

TTL_SECONDS = 3600.0


class SlackNames:
    def __init__(self, gateway: SlackGateway) -> None:
        self._gateway = gateway
        self._cache: dict[str, tuple[float, str | None]] = {}

    async def _cached(self, key: str, method: str, **args: str) -> str | None:
        hit = self._cache.get(key)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        data = await self._gateway.lookup(method, **args)
        name = _name_in(data) if data else None
        if data is not None:  # cache answers, not outages
            self._cache[key] = (time.monotonic() + TTL_SECONDS, name)
        return name

    async def user(self, user_id: str) -> str | None:
        return await self._cached(f"U:{user_id}", "users.info", user=user_id)

    async def channel(self, channel_id: str) -> str | None:
        return await self._cached(f"C:{channel_id}", "conversations.info", channel=channel_id)


def _name_in(data: dict[str, object]) -> str | None:
    user = data.get("user")
    if isinstance(user, dict):
        profile = user.get("profile") if isinstance(user.get("profile"), dict) else {}
        assert isinstance(profile, dict)
        for candidate in (profile.get("display_name"), profile.get("real_name"), user.get("name")):
            if isinstance(candidate, str) and candidate:
                return candidate
    channel = data.get("channel")
    if isinstance(channel, dict) and isinstance(channel.get("name"), str):
        return str(channel["name"])
    return None
