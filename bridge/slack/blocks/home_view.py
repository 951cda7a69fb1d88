"""The App Home tab is the inbox: conversations by most recent activity, with filters,
and a link to each thread. This renders the view; `jobs.home_refresh` publishes it and
`listeners.home_events` follows who looks at it with which filter."""

from __future__ import annotations

import re
from datetime import time
from typing import Any

from bridge.models import (
    Conversation,
    ConversationStatus,
    InboxFilter,
    NotifyMode,
    NotifyPreferences,
)
from bridge.phones import display
from bridge.slack.blocks.campaigns_home import INBOX_TAB, tab_switch
from bridge.slack.blocks.header_card import channel_label
from bridge.slack.blocks.mrkdwn import escape, slack_time
from bridge.slack.blocks.wording import hours_text
from bridge.text import clip
from bridge.threading.opening_hours import Opening

FILTER_ACTION = "home_filter"
# Each person's notification preferences (`notify/` honours them).
MODE_ACTION = "home_notify_mode"
QUIET_ACTION = "home_quiet_hours"
MODES = {
    NotifyMode.ALL: "Notify me of everything",
    NotifyMode.URGENT_ONLY: "Urgent only (the rest in digests)",
    NotifyMode.DIGEST_ONLY: "Digests only",
    NotifyMode.MUTE: "Mute my notifications",
}
NO_QUIET = "off"
# Quiet hours offered, in the business's time zone: alerts then wait for their end.
QUIET_HOURS = {
    NO_QUIET: "No quiet hours",
    "18:00-08:00": "Quiet 18:00–08:00",
    "20:00-07:00": "Quiet 20:00–07:00",
    "22:00-07:00": "Quiet 22:00–07:00",
}
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


def _plain_option(value: str, label: str) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": label}, "value": value}


def quiet_value(preferences: NotifyPreferences) -> str:
    start, end = preferences.quiet_from, preferences.quiet_until
    if start is None or end is None:
        return NO_QUIET
    return f"{start:%H:%M}-{end:%H:%M}"


def quiet_hours(value: str) -> tuple[time, time] | None:
    """An offered quiet-hours choice as (from, until); None for none (or a forged one)."""
    if value not in QUIET_HOURS or value == NO_QUIET:
        return None
    start, end = value.split("-")
    return time.fromisoformat(start), time.fromisoformat(end)


def _preferences(preferences: NotifyPreferences) -> list[dict[str, Any]]:
    quiet = quiet_value(preferences)  # one not offered (any more) shows none chosen
    elements: list[dict[str, Any]] = [
        {
            "type": "static_select",
            "action_id": MODE_ACTION,
            "placeholder": {"type": "plain_text", "text": "Notifications"},
            "initial_option": _plain_option(preferences.mode.value, MODES[preferences.mode]),
            "options": [_plain_option(mode.value, label) for mode, label in MODES.items()],
        },
        {
            "type": "static_select",
            "action_id": QUIET_ACTION,
            "placeholder": {"type": "plain_text", "text": "Quiet hours"},
            "options": [_plain_option(value, label) for value, label in QUIET_HOURS.items()],
            **(
                {"initial_option": _plain_option(quiet, QUIET_HOURS[quiet])}
                if quiet in QUIET_HOURS
                else {}
            ),
        },
    ]
    return [
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": ":bell: *Your notifications*"}],
        },
        {"type": "actions", "block_id": "home_notify", "elements": elements},
    ]


def _hours(hours: Opening) -> dict[str, str]:
    return {"type": "mrkdwn", "text": f":clock3: {hours_text(hours)}"}


def render_home(
    conversations: list[Conversation],
    inbox: InboxFilter,
    names: dict[int, str],
    links: dict[int, str],
    hours: Opening | None = None,
    preferences: NotifyPreferences | None = None,
    lessons: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """`preferences`: the viewer's notification choices, shown when rules notify people;
    `lessons`: blocks of lessons for the assistant an admin may decide, shown first."""
    lessons = lessons or []
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": "SMS inbox"}},
        tab_switch(INBOX_TAB),
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
        *(_preferences(preferences) if preferences is not None else []),
        {"type": "divider"},
        *lessons,
    ]
    # Two blocks a row: the lessons take the place of the last rows (100 blocks at most).
    for conversation in conversations[: MAX_ROWS - (len(lessons) + 1) // 2]:
        blocks.extend(_row(conversation, names, links))
    if not conversations:
        blocks.append(
            {"type": "section", "text": {"type": "mrkdwn", "text": "_Nothing here right now._"}}
        )
    return {"type": "home", "blocks": blocks}
