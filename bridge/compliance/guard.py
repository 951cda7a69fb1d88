"""The outbound guard: the last word before anything is texted to a subscriber."""

from __future__ import annotations

from bridge.events import Refusal
from bridge.models import ConsentState, Conversation, MessagePurpose

# Texts the rules allow even after a revocation: the single confirmation of it, and
# the answer to HELP (CTIA: HELP is always answered).
_ALWAYS_ALLOWED = {MessagePurpose.OPT_OUT_CONFIRMATION, MessagePurpose.HELP_REPLY}


def refusal(
    conversation: Conversation, consent: ConsentState, purpose: MessagePurpose
) -> Refusal | None:
    """Why this text may not go out now; None if it may."""
    if purpose in _ALWAYS_ALLOWED:
        return None
    if not consent.conversational:
        return Refusal(
            opted_out=True, subscriber=conversation.subscriber, revoked_at=consent.revoked_at
        )
    if purpose is MessagePurpose.MARKETING and not consent.marketing:
        return Refusal(opted_out=False, subscriber=conversation.subscriber)
    return None
