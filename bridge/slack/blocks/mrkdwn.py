"""Slack's text encoding (mrkdwn): the format of everything the bridge posts, notes
included. Only &, < and > are special (api.slack.com formatting)."""

from __future__ import annotations

import re
from datetime import datetime

from bridge.models import ASSISTANT, FEEDBACK, ROUTING, SLA_TIMER


def escape(text: str) -> str:
    """Make untrusted text (an SMS) inert: no mentions, no @channel, no forged links."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """ "1 attachment", "2 attachments", "0 entries"."""
    return f"{count} {noun if count == 1 else plural or noun + 's'}"


def slack_time(at: datetime) -> str:
    """A time Slack renders in each reader's own time zone (with a UTC fallback)."""
    fallback = at.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(at.timestamp())}^{{date_short_pretty}} {{time}}|{fallback}>"


_DATE_TOKEN = re.compile(r"<!date\^[^|>]*\|([^>]*)>")


def field_error(note: str) -> str:
    """A note for a dialog's field error, which Slack shows as plain text: its date
    tokens become their fallback, its escapes the characters they stand for."""
    plain = _DATE_TOKEN.sub(r"\1", note)
    return unescape(plain)


def mention(user: str) -> str:
    """A Slack mention of a person; the bridge's own actors are named."""
    return _NAMED.get(user) or f"<@{user}>"


_NAMED = {
    ASSISTANT: "the assistant",
    ROUTING: "the routing rules",
    SLA_TIMER: "the first-response timer",
    FEEDBACK: "a low rating",
}


def mention_any(target: str) -> str:
    """A mention of a person (U…, W…) or a user group (S…), which Slack writes apart."""
    return f"<!subteam^{target}>" if target.startswith("S") else mention(target)
