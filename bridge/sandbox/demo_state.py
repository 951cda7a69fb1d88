"""What the demo page shows, as one JSON document read from the emulators' state.

The page renders this document whole each time it changes; nothing here is kept
elsewhere, so the page can never disagree with what Slack and Twilio recorded.
"""

from __future__ import annotations

import json
import re
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import emoji

from bridge.models import Address, Channel
from bridge.phones import display
from bridge.sandbox.demo_slack_client import SlackClient
from bridge.sandbox.demo_world import BUSINESS_NUMBER, INBOX, INBOX_NAME, TEAM_CHANNELS, Sandbox
from bridge.sandbox.mail_server import plain_body
from bridge.sandbox.slack_emulator import SlackError, SlackMessage

# Reactions offered by the page's emoji picker (the sample config maps the first three).
PICKER = ("white_check_mark", "triangular_flag_on_post", "raising_hand", "eyes", "+1", "heart")
# Slack's names that the `emoji` package spells differently.
_SLACK_ONLY = {
    "large_green_circle": "🟢",
    "large_blue_circle": "🔵",
    "large_yellow_circle": "🟡",
    "large_orange_circle": "🟠",
    "large_purple_circle": "🟣",
    "simple_smile": "🙂",
    "slightly_smiling_face": "🙂",
    "thumbsup": "👍",
    "thumbsdown": "👎",
}
_SHORTCODE = re.compile(r":([a-z0-9_+\-']+):")
# The page shows a few of each person's latest notes; older ones need not travel.
MAX_EPHEMERALS = 200
MAX_OUTBOX = 50  # the latest notifications are enough to see what goes out
MAX_OUTBOX_BODY = 4000
_SUBSCRIBER_COLORS = ("#2f80ed", "#e2574c", "#27ae60", "#9b51e0", "#f2994a", "#00a3a3")


def snapshot(
    sandbox: Sandbox, client: SlackClient, scenarios: list[dict[str, Any]]
) -> dict[str, Any]:
    slack = sandbox.slack
    state: dict[str, Any] = {
        "version": sandbox.changes.version,
        "business": _business(sandbox),
        "inbox": {"id": INBOX, "name": INBOX_NAME},
        "bot": slack.bot_user_id,
        "users": _users(sandbox),
        "agents": [agent.id for agent in sandbox.people.agents],
        "subscribers": _subscribers(sandbox),
        "channel": [_parent(m, sandbox, INBOX) for m in slack.messages(INBOX)],
        # The routing teams' channels, each with its threads like the inbox's.
        "teams": [
            {
                "id": channel,
                "name": name,
                "channel": [_parent(m, sandbox, channel) for m in slack.messages(channel)],
            }
            for channel, name in TEAM_CHANNELS.items()
        ],
        "ephemerals": [
            {
                "channel": e.channel,
                "user": e.user,
                "text": e.text,
                "ts": e.ts,
                "thread_ts": e.thread_ts,
                "blocks": e.blocks,
            }
            for e in slack.ephemerals[-MAX_EPHEMERALS:]
        ],
        "dms": {agent.id: _dm(sandbox, agent.id) for agent in sandbox.people.agents},
        "outbox": _outbox(sandbox),
        "home_views": slack.home_views,
        "modals": slack.modals,
        "modal_errors": client.modal_errors,
        "commands": [
            {
                "user": c.user,
                "command": c.command,
                "text": c.text,
                "status": c.status,
                "answer": c.answer[:500],
                "at": c.at,
            }
            for c in client.commands[-10:]
        ],
        "scenarios": scenarios,
        "picker": list(PICKER),
    }
    state["emoji"] = _emoji_in(state)
    return state


def _business(sandbox: Sandbox) -> dict[str, Any]:
    config = sandbox.config
    name = config.business.name if config else "Business"
    zone = config.business.timezone if config else "UTC"
    now = sandbox.clock.now().astimezone(ZoneInfo(zone))  # as the bridge reads its hours
    return {
        "name": name,
        "number": BUSINESS_NUMBER,
        "number_display": display(BUSINESS_NUMBER),
        "timezone": zone,
        "local_time": now.strftime("%a %H:%M"),
        "hours": dict(config.business.hours) if config else {},
    }


def _users(sandbox: Sandbox) -> dict[str, dict[str, Any]]:
    users = {
        sandbox.slack.bot_user_id: {"name": "SMS Bridge", "real_name": "SMS Bridge", "bot": True}
    }
    for agent in sandbox.people.agents:
        users[agent.id] = {
            "name": agent.display_name or agent.real_name,
            "real_name": agent.real_name,
            "bot": False,
        }
    return users


def _subscribers(sandbox: Sandbox) -> list[dict[str, Any]]:
    out = []
    for index, (phone, name) in enumerate(sandbox.subscribers.items()):
        bubbles: list[dict[str, Any]] = [
            {
                "id": f"p{entry.id}",
                "direction": entry.direction,
                "body": entry.body,
                "at": entry.at,
                "status": entry.status,
                "detail": entry.detail,
                "photo": entry.photo,
            }
            for entry in sandbox.phone_log
            if entry.phone == phone
        ]
        for sent in sandbox.twilio.sent_to(phone):
            bubbles.append(
                {
                    "id": sent.sid,
                    "direction": "received",
                    "body": sent.body,
                    "at": sandbox.sent_at.get(sent.sid, 0.0),
                    "status": sent.status,
                    "detail": f"error {sent.error_code}" if sent.error_code else "",
                }
            )
        bubbles.sort(key=lambda bubble: float(bubble["at"]))
        address = Address.parse(phone)
        shown = display(address.id)
        out.append(
            {
                "phone": phone,
                "channel": address.channel.value,
                "display": shown
                if address.channel is Channel.SMS
                else f"{address.channel.label} · {shown}",
                "name": name,
                "color": _SUBSCRIBER_COLORS[index % len(_SUBSCRIBER_COLORS)],
                "blocked": phone in sandbox.twilio.blocked,
                "thread": sandbox.thread_of(phone),
                "bubbles": bubbles,
            }
        )
    return out


def _message(message: SlackMessage) -> dict[str, Any]:
    return {
        "ts": message.ts,
        "user": message.user,
        "bot": message.bot_id is not None,
        "username": message.username,  # a post shown under a customer's name
        "icon": message.icon_emoji,
        "text": message.text,
        "blocks": message.blocks,
        "attachments": message.attachments,
        "files": [
            {
                "id": f.get("id"),
                "name": f.get("name"),
                "title": f.get("title"),
                "mimetype": f.get("mimetype"),
                "size": f.get("size"),
            }
            for f in message.files
        ],
        "reactions": [{"name": name, "users": users} for name, users in message.reactions.items()],
        "edited": message.edited is not None and message.bot_id is None,
        "thread_ts": message.thread_ts,
    }


def _parent(message: SlackMessage, sandbox: Sandbox, channel: str) -> dict[str, Any]:
    out = _message(message)
    out["replies"] = [_message(reply) for reply in sandbox.slack.replies(channel, message.ts)]
    return out


def _outbox(sandbox: Sandbox) -> list[dict[str, Any]]:
    """The notifications that went out of the sandbox, newest first: each email as its
    recipient would read it (the plain-text part), each webhook's JSON as its receiver
    got it, and whether its signature holds."""
    mails = [
        (
            _sent_at(mail),
            {
                "kind": "email",
                "to": str(mail["To"]),
                "subject": str(mail["Subject"]),
                "body": plain_body(mail)[:MAX_OUTBOX_BODY],
            },
        )
        for mail in sandbox.mail.mails[-MAX_OUTBOX:]
    ]
    hooks = [
        (
            hook.at,
            {
                "kind": "webhook",
                "to": hook.webhook,
                "subject": f"{hook.event} · signature {'valid' if hook.signed else 'INVALID'}",
                "body": json.dumps(hook.body, indent=2, ensure_ascii=False)[:MAX_OUTBOX_BODY],
            },
        )
        for hook in sandbox.hooks.deliveries[-MAX_OUTBOX:]
    ]
    newest = sorted(mails + hooks, key=lambda pair: pair[0], reverse=True)
    return [item for _, item in newest[:MAX_OUTBOX]]


def _sent_at(mail: EmailMessage) -> float:
    """When the bridge sent a mail (its Date header), for the outbox's order."""
    date = mail["Date"]
    return parsedate_to_datetime(str(date)).timestamp() if date else 0.0


def _dm(sandbox: Sandbox, user: str) -> list[dict[str, Any]]:
    try:
        # The DM's ID; asking by user ID would open (and reset) it.
        messages = sandbox.slack.messages("D" + user[1:])
    except SlackError:
        return []
    return [_message(m) for m in messages]


def _emoji_in(state: dict[str, Any]) -> dict[str, str]:
    names: set[str] = set(state["picker"])
    stack: list[Any] = [
        state["channel"],
        state["teams"],
        state["ephemerals"],
        state["dms"],
        state["home_views"],
        state["modals"],
    ]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            names.update(_SHORTCODE.findall(value))
        elif isinstance(value, dict):
            if isinstance(value.get("name"), str) and isinstance(value.get("users"), list):
                names.add(value["name"])  # a reaction
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    found = {name: _unicode(name) for name in names}
    return {name: char for name, char in found.items() if char}


@lru_cache(maxsize=4096)
def _unicode(name: str) -> str:
    code = f":{name}:"
    for language in ("alias", "en"):
        converted = emoji.emojize(code, language=language)
        if converted != code:
            return converted
    base = name.split("::")[0]
    return _SLACK_ONLY.get(base, "")
