"""The outbound guard: the last word before anything is texted to a subscriber."""

from __future__ import annotations

from datetime import datetime

from bridge.compliance.reply_window import window_closed
from bridge.events import Refusal, Snag, Stopped
from bridge.models import ConsentState, Conversation, MessagePurpose, utcnow

# Texts the rules allow even after a revocation: the single confirmation of it, and
# the answer to HELP (CTIA: HELP is always answered).
_ALWAYS_ALLOWED = {MessagePurpose.OPT_OUT_CONFIRMATION, MessagePurpose.HELP_REPLY}


def refusal(
    conversation: Conversation,
    consent: ConsentState,
    purpose: MessagePurpose,
    *,
    now: datetime | None = None,
) -> Refusal | Stopped | None:
    """Why this text may not go out now (`now`: the current time, by default the
    clock's); None if it may."""
    if window_closed(conversation, now or utcnow()):
        return Stopped(snag=Snag.WINDOW_CLOSED)  # the platform's rule, whatever the purpose
    if purpose in _ALWAYS_ALLOWED:
        return None
    if not consent.conversational:
        return Refusal(
            opted_out=True, subscriber=conversation.subscriber, revoked_at=consent.revoked_at
        )
    if purpose is MessagePurpose.MARKETING and not consent.marketing:
        return Refusal(opted_out=False, subscriber=conversation.subscriber)
    return None
