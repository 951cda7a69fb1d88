"""People and channels behind Slack ids, cached: mentions in a reply become names in the
SMS, and who may act is checked, without a users.info call per message."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from dataclasses import dataclass

from bridge.slack.gateway import SlackGateway

TTL_SECONDS = 3600.0
# What an acknowledgement may spend on names: Slack allows 3 seconds in all.
NAME_BUDGET_SECONDS = 1.0


@dataclass(frozen=True)
class Person:
    """What users.info says of someone."""

    id: str
    name: str | None
    team: str | None  # their own workspace (a Slack Connect guest's is another one)
    active: bool  # not deactivated, not a bot
    email: str | None = None  # the profile's (Slack gives it with users:read.email)


class SlackNames:
    def __init__(self, gateway: SlackGateway) -> None:
        self._gateway = gateway
        self._people: dict[str, tuple[float, Person]] = {}
        self._channels: dict[str, tuple[float, str | None]] = {}
        self._lookups: set[asyncio.Task[str | None]] = set()  # outlasting a budget

    async def person(self, user_id: str) -> Person | None:
        """Who it is (an inactive nobody when Slack knows no such user), or None when
        Slack cannot answer now (not cached: asked again next time)."""
        hit = self._people.get(user_id)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        data = await self._gateway.lookup("users.info", user=user_id)
        if data is None:
            return None  # an outage or a pace: not cached, asked again next time
        person = _person(data) or Person(user_id, name=None, team=None, active=False)
        self._people[user_id] = (time.monotonic() + TTL_SECONDS, person)
        return person

    async def names_now(
        self, user_ids: Iterable[str], *, within: float = NAME_BUDGET_SECONDS
    ) -> dict[str, str]:
        """The names of these people known within `within`, looked up together; the
        look-ups still going on then finish in the background, for later."""
        lookups = {user: asyncio.ensure_future(self.user(user)) for user in set(user_ids)}
        if not lookups:
            return {}
        _, late = await asyncio.wait(lookups.values(), timeout=within)
        for task in late:
            self._lookups.add(task)
            task.add_done_callback(self._lookups.discard)
        return {
            user: name
            for user, task in lookups.items()
            if task.done()
            and not task.cancelled()
            and not task.exception()
            and (name := task.result())
        }

    async def names(self, user_ids: set[str]) -> dict[str, str]:
        """Names for a reply being sent (`bridge.threading.sending.Directory`): the
        ones Slack gives now; those it does not are looked up again on the next try."""
        return await self.names_now(user_ids, within=10.0)

    async def user(self, user_id: str) -> str | None:
        person = await self.person(user_id)
        return person.name if person else None

    async def channel(self, channel_id: str) -> str | None:
        hit = self._channels.get(channel_id)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        data = await self._gateway.lookup("conversations.info", channel=channel_id)
        channel = (data or {}).get("channel")
        name = str(channel["name"]) if isinstance(channel, dict) and channel.get("name") else None
        if data is not None:  # cache answers, not outages
            self._channels[channel_id] = (time.monotonic() + TTL_SECONDS, name)
        return name


def _person(data: dict[str, object]) -> Person | None:
    user = data.get("user")
    if not isinstance(user, dict) or not isinstance(user.get("id"), str):
        return None
    profile = user.get("profile") if isinstance(user.get("profile"), dict) else {}
    assert isinstance(profile, dict)
    name = next(
        (
            candidate
            for candidate in (
                profile.get("display_name"),
                profile.get("real_name"),
                user.get("name"),
            )
            if isinstance(candidate, str) and candidate
        ),
        None,
    )
    team = user.get("team_id")
    email = profile.get("email")
    return Person(
        id=str(user["id"]),
        name=name,
        team=team if isinstance(team, str) else None,
        active=not user.get("deleted") and not user.get("is_bot"),
        email=email if isinstance(email, str) and email else None,
    )
