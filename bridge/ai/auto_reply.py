"""When the assistant may send its own draft (auto-reply mode, per business number)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from bridge.ai.drafter import Draft
from bridge.config import AutoReply
from bridge.models import ASSISTANT, Direction, KeywordMark, Message, percent


def on_duty(policy: AutoReply, *, open_now: bool) -> bool:
    """Whether the assistant answers now (then it also flags what needs a person, who may
    not be watching); in opening hours with `only_outside_hours`, people answer."""
    return policy.enabled and not (policy.only_outside_hours and open_now)


def hold_reason(
    policy: AutoReply,
    draft: Draft,
    *,
    message: Message,
    open_now: bool,
    now: datetime,
    recent: Sequence[Message],
) -> str | None:
    """Why the draft for `message` must wait for a person, or None when the assistant
    may send it. `open_now`: the number's opening hours say open. `recent`: the
    conversation's latest messages (later texts included)."""
    if not on_duty(policy, open_now=open_now):
        return (
            "auto-reply is off" if not policy.enabled else "the business is open: a person answers"
        )
    if not draft.sendable:
        return "it asks for a person" if draft.escalate else "there is nothing to send"
    if message.keyword is KeywordMark.MAYBE_OPT_OUT:
        return "the text may ask to stop texting: a person reads it first"
    if draft.urgency == "urgent":
        return "it is urgent: a person answers"
    if draft.confidence < policy.min_confidence:
        return f"confidence {percent(draft.confidence)} is below {percent(policy.min_confidence)}"
    later = [
        m for m in recent if m.direction is Direction.INBOUND and m.created_at > message.created_at
    ]
    if later:
        return "a newer text follows; its draft answers both"
    pause = timedelta(minutes=policy.pause_after_agent_minutes)
    for sent in recent:
        if sent.direction is not Direction.OUTBOUND or now - sent.created_at >= pause:
            continue
        if sent.author == ASSISTANT and sent.body == draft.reply:
            return "the assistant sent this answer a moment ago"
        if sent.author not in (None, ASSISTANT):
            return "a person is answering this conversation"
    return None
