"""The outbound guard: the last word before anything is texted to a subscriber."""

from __future__ import annotations

from datetime import datetime

from bridge.compliance.reply_window import WINDOW_REFUSAL, window_closed
from bridge.models import ConsentState, Conversation, MessagePurpose, utcnow
from bridge.mrkdwn import slack_time
from bridge.phones import display

# Texts the rules allow even after a revocation: the single confirmation of it, and
# the answer to HELP (CTIA: HELP is always answered).
_ALWAYS_ALLOWED = {MessagePurpose.OPT_OUT_CONFIRMATION, MessagePurpose.HELP_REPLY}


def refusal(
    conversation: Conversation,
    consent: ConsentState,
    purpose: MessagePurpose,
    *,
    now: datetime | None = None,
) -> str | None:
    """Why this text may not go out now (`now`: the current time, by default the
    clock's), in words for the agent; None if it may."""
    if window_closed(conversation, now or utcnow()):
        return WINDOW_REFUSAL  # the platform's rule, whatever the purpose
    if purpose in _ALWAYS_ALLOWED:
        return None
    who = display(conversation.subscriber)
    if not consent.conversational:
        # A date token: each reader's Slack shows it in their own time zone.
        when = f" ({slack_time(consent.revoked_at)})" if consent.revoked_at else ""
        return f"Not sent: {who} opted out of texts{when}. They can text START to opt back in."
    if purpose is MessagePurpose.MARKETING and not consent.marketing:
        return f"Not sent: {who} has not agreed to marketing texts."
    return None
