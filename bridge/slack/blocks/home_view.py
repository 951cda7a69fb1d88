"""The App Home tab is the inbox: conversations by most recent activity, with filters,
and a link to each thread. This renders the view; `jobs.home_refresh` publishes it and
`listeners.home_events` follows who looks at it with which filter."""

from __future__ import annotations

import re
from typing import Any

from bridge.models import Conversation, ConversationStatus, InboxFilter
from bridge.phones import display
from bridge.slack.blocks.header_card import channel_label
from bridge.slack.blocks.mrkdwn import escape, slack_time
from bridge.slack.blocks.wording import hours_text
from bridge.text import clip
from bridge.threading.opening_hours import Opening

FILTER_ACTION = "home_filter"
# The rows' "Open thread" buttons (Bolt matches a plain string exactly).
LINK_ACTIONS = re.compile(r"^home_open_\d+$")
MAX_ROWS = 40  # two blocks a row, within the 100 blocks a Home tab may have
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


def _hours(hours: Opening) -> dict[str, str]:
    return {"type": "mrkdwn", "text": f":clock3: {hours_text(hours)}"}


def render_home(
    conversations: list[Conversation],
    inbox: InboxFilter,
    names: dict[int, str],
    links: dict[int, str],
    hours: Opening | None = None,
) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": "SMS inbox"}},
        *(
            [{"type": "context", "block_id": "home_hours", "elements": [_hours(hours)]}]
            if hours
            else []
        ),
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
