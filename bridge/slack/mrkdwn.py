"""Slack's text encoding: only &, < and > are special (api.slack.com formatting)."""

from __future__ import annotations

from datetime import datetime


def escape(text: str) -> str:
    """Make untrusted text (an SMS) inert: no mentions, no @channel, no forged links."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_time(at: datetime) -> str:
    """A time Slack renders in each reader's own time zone (with a UTC fallback)."""
    fallback = at.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(at.timestamp())}^{{date_short_pretty}} {{time}}|{fallback}>"
