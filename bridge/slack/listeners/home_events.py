"""App Home events: a member opens the tab or picks a filter, and their view is
republished (a REFRESH_HOME job); who is not a member sees no inbox data."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from slack_bolt.async_app import AsyncAck, AsyncApp

from bridge.jobs import home_job
from bridge.models import InboxFilter, utcnow
from bridge.slack.access import InboxAccess, selected, slack_id
from bridge.slack.blocks.campaigns_home import CAMPAIGNS_TAB, TAB_ACTION
from bridge.slack.blocks.home_view import FILTER_ACTION, LINK_ACTIONS
from bridge.store.base import HomeFilterStore, JobStore


class _Store(HomeFilterStore, JobStore, Protocol):
    """The store roles this module uses."""


class HomeEvents:
    def __init__(self, store: _Store, access: InboxAccess, on_enqueued: Callable[[], None]) -> None:
        self._store = store
        self._access = access
        self._wake = on_enqueued

    def register(self, app: AsyncApp) -> None:
        app.event("app_home_opened")(self.on_opened)
        app.action(FILTER_ACTION)(self.on_filter)
        app.action({"action_id": LINK_ACTIONS})(self.on_link)
        app.action(TAB_ACTION)(self.on_tab)

    async def on_opened(self, event: dict[str, Any]) -> None:
        if event.get("tab", "home") != "home":
            return
        user = slack_id(event.get("user"))
        if user is None or not await self._access.allows(user):
            return  # not (or not yet known as) a member: no inbox data for them
        viewers = await self._store.home_viewers()
        await self._store.set_home_filter(user, viewers.get(user, InboxFilter.OPEN))
        await self._store.enqueue(home_job(user), run_at=utcnow())
        self._wake()

    async def on_filter(self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        user = slack_id((body.get("user") or {}).get("id"))
        value = selected(action) or ""
        if (
            user is not None
            and value in InboxFilter._value2member_map_
            and await self._access.allows(user)
        ):
            await self._store.set_home_filter(user, InboxFilter(value))
            await self._store.enqueue(home_job(user), run_at=utcnow())
            self._wake()

    async def on_tab(self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        """Inbox or Campaigns: remembered as the viewer's home filter (the inbox opens
        on its open conversations)."""
        await ack()
        user = slack_id((body.get("user") or {}).get("id"))
        if user is None or not await self._access.allows(user):
            return
        tab = InboxFilter.CAMPAIGNS if action.get("value") == CAMPAIGNS_TAB else InboxFilter.OPEN
        await self._store.set_home_filter(user, tab)
        await self._store.enqueue(home_job(user), run_at=utcnow())
        self._wake()

    async def on_link(self, ack: AsyncAck) -> None:
        await ack()  # a link button: Slack opens the URL; nothing to do
