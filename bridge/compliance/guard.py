"""The outbound guard: the last word before anything is texted to a subscriber."""

from __future__ import annotations

from bridge.models import Conversation
from bridge.phones import display


def refusal(conversation: Conversation) -> str | None:
    """Why this conversation may not be texted now, in words for the agent; None if it may."""
    if conversation.opted_out_at is not None:
        when = conversation.opted_out_at.strftime("%Y-%m-%d %H:%M UTC")
        return (
            f"Not sent: {display(conversation.subscriber)} opted out of texts ({when}). "
            "They can text START to opt back in."
        )
    return None
