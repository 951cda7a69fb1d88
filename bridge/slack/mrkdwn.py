"""Slack's text encoding: only &, < and > are special (api.slack.com formatting)."""

from __future__ import annotations


def escape(text: str) -> str:
    """Make untrusted text (an SMS) inert: no mentions, no @channel, no forged links."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
