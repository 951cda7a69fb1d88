"""When the assistant may send its own draft (auto-reply mode, per business number)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from bridge.ai.drafter import Draft
from bridge.config import AutoReply, Business
from bridge.models import ASSISTANT, Direction, Message


def hold_reason(
    policy: AutoReply,
    draft: Draft,
    *,
    business: Business,
    now: datetime,
    recent: Sequence[Message],
) -> str | None:
    """Why the draft must wait for a person, or None when the assistant may send it."""
    if not policy.enabled:
        return "auto-reply is off"
    if not draft.sendable:
        return "it asks for a person" if draft.escalate else "there is nothing to send"
    if draft.confidence < policy.min_confidence:
        return f"confidence {draft.confidence:.0%} is below {policy.min_confidence:.0%}"
    if policy.only_outside_hours and business.is_open(now):
        return "the business is open: a person answers"
    pause = timedelta(minutes=policy.pause_after_agent_minutes)
    if any(
        m.direction is Direction.OUTBOUND
        and m.author not in (None, ASSISTANT)
        and now - m.created_at < pause
        for m in recent
    ):
        return "a person is answering this conversation"
    return None
