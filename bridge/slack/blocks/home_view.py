"""The App Home tab is the inbox: conversations by most recent activity, with filters,
and a link to each thread. Republished on changes, coalesced into one job, paced by
the gateway (views.publish is Tier 4)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from slack_bolt.async_app import AsyncAck, AsyncApp

from bridge.jobs import home_job
from bridge.models import (
    Conversation,
    ConversationStatus,
    InboxFilter,
    Job,
    utcnow,
)
from bridge.phones import display
from bridge.slack.access import InboxAccess, selected, slack_id
from bridge.slack.blocks.header_card import channel_label
from bridge.slack.blocks.mrkdwn import escape, slack_time
from bridge.slack.gateway import SlackGateway
from bridge.store.base import ContactStore, ConversationStore, HomeFilterStore, JobStore
from bridge.text import clip


class _Store(ConversationStore, ContactStore, HomeFilterStore, JobStore, Protocol):
    """The store roles this module uses."""


FILTER_ACTION = "home_filter"
MAX_ROWS = 40  # two blocks a row, within the 100 blocks a Home tab may have
MAX_VIEWERS = 50  # republished per change; views.publish allows about 100 a minute
LABELS = {
    InboxFilter.OPEN: "Open",
    InboxFilter.MINE: "Mine",
    InboxFilter.UNASSIGNED: "Unassigned",
    InboxFilter.FLAGGED: "Flagged",
    InboxFilter.ALL: "All",
}


def _option(inbox: InboxFilter) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": LABELS[inbox]}, "value": inbox.value}


def _row(
    conversation: Conversation, names: dict[int, str], links: dict[int, str]
) -> list[dict[str, Any]]:
    state = (
        "resolved"
        if conversation.status is ConversationStatus.RESOLVED
        else "flagged"
        if conversation.flagged
        else "open"
    )
    who = names.get(conversation.id)
    title = f"*#{conversation.id}* {channel_label(conversation)}{display(conversation.subscriber)}"
    if who:
        title += f" · {escape(clip(who, 200))}"
    if conversation.unread:
        title = f":large_blue_circle: {title}"
    assignee = f"<@{conversation.assignee}>" if conversation.assignee else "unassigned"
    section: dict[str, Any] = {
        "type": "section",
        "text": {"type": "mrkdwn", "text": title},
    }
    link = links.get(conversation.id)
    if link:
        section["accessory"] = {
            "type": "button",
            "action_id": f"home_open_{conversation.id}",
            "text": {"type": "plain_text", "text": "Open thread"},
            "url": link,
        }
    context = {
        "type": "context",
        "elements": [
            {
                "type": "mrkdwn",
                "text": f"{state} · {assignee} · {slack_time(conversation.last_activity_at)}",
            }
        ],
    }
    return [section, context]


def render_home(
    conversations: list[Conversation],
    inbox: InboxFilter,
    names: dict[int, str],
    links: dict[int, str],
) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": "SMS inbox"}},
        {
            "type": "actions",
            "block_id": "home_filters",
            "elements": [
                {
                    "type": "static_select",
                    "action_id": FILTER_ACTION,
                    "initial_option": _option(inbox),
                    "options": [_option(f) for f in LABELS],
                }
            ],
        },
        {"type": "divider"},
    ]
    for conversation in conversations[:MAX_ROWS]:
        blocks.extend(_row(conversation, names, links))
    if not conversations:
        blocks.append(
            {"type": "section", "text": {"type": "mrkdwn", "text": "_Nothing here right now._"}}
        )
    return {"type": "home", "blocks": blocks}


class HomeTab:
    def __init__(
        self,
        store: _Store,
        gateway: SlackGateway,
        access: InboxAccess,
        on_enqueued: Callable[[], None],
    ) -> None:
        self._store = store
        self._gateway = gateway
        self._access = access
        self._wake = on_enqueued

    def register(self, app: AsyncApp) -> None:
        app.event("app_home_opened")(self.on_opened)
        app.action(FILTER_ACTION)(self.on_filter)
        app.action({"action_id": "^home_open_\\d+$"})(self.on_link)

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

    async def on_link(self, ack: AsyncAck) -> None:
        await ack()  # a link button: Slack opens the URL; nothing to do

    async def __call__(self, job: Job) -> None:
        """Job REFRESH_HOME."""
        viewers = await self._store.home_viewers()
        if job.user is not None:
            viewers = {job.user: viewers.get(job.user, InboxFilter.OPEN)}
        for user, inbox in list(viewers.items())[:MAX_VIEWERS]:
            if not await self._access.allows(user):
                continue  # left the inbox channel: their Home stops updating
            conversations = await self._store.list_conversations(inbox, user=user, limit=MAX_ROWS)
            names = {
                c.id: contact.name
                for c in conversations
                if (contact := await self._store.get_contact(c.subscriber)) and contact.name
            }
            links = {c.id: link for c in conversations if (link := await self._link(c)) is not None}
            await self._gateway.publish_home(user, render_home(conversations, inbox, names, links))

    async def _link(self, conversation: Conversation) -> str | None:
        if not (conversation.slack_channel and conversation.slack_thread_ts):
            return None
        identity = await self._gateway.identity()
        workspace = identity.url if identity else "https://slack.com/"
        ts = conversation.slack_thread_ts.replace(".", "")
        return f"{workspace.rstrip('/')}/archives/{conversation.slack_channel}/p{ts}"
