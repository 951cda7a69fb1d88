"""App Home's notification choices: a member picks how they hear of things (everything,
urgent only, digests only, mute) and their quiet hours; the rules honour it from the
next alert on, and their Home shows the choice."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from slack_bolt.async_app import AsyncAck, AsyncApp

from bridge.jobs import home_job
from bridge.models import NotifyMode, utcnow
from bridge.slack.access import InboxAccess, selected, slack_id
from bridge.slack.blocks.home_view import MODE_ACTION, NO_QUIET, QUIET_ACTION, quiet_hours
from bridge.store.base import JobStore, PreferenceStore


class _Store(PreferenceStore, JobStore, Protocol):
    """The store roles this module uses."""


class NotifyPreferenceChoices:
    def __init__(self, store: _Store, access: InboxAccess, on_enqueued: Callable[[], None]) -> None:
        self._store = store
        self._access = access
        self._wake = on_enqueued

    def register(self, app: AsyncApp) -> None:
        app.action(MODE_ACTION)(self.on_mode)
        app.action(QUIET_ACTION)(self.on_quiet)

    async def on_mode(self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        value = selected(action) or ""
        if value in NotifyMode._value2member_map_:
            await self._choose(body, {"mode": NotifyMode(value)})

    async def on_quiet(self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        value = selected(action) or ""
        span = quiet_hours(value)
        if span is not None:
            await self._choose(body, {"quiet_from": span[0], "quiet_until": span[1]})
        elif value == NO_QUIET:
            await self._choose(body, {"quiet_from": None, "quiet_until": None})

    async def _choose(self, body: dict[str, Any], change: dict[str, Any]) -> None:
        user = slack_id((body.get("user") or {}).get("id"))
        if user is None or not await self._access.allows(user):
            return
        current = await self._store.notify_preferences(user)
        await self._store.set_notify_preferences(user, current.model_copy(update=change))
        await self._store.enqueue(home_job(user), run_at=utcnow())
        self._wake()
