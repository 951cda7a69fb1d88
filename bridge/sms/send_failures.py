"""Twilio's error codes, mapped to the domain's `SendFailure`: what each means for us,
and its meaning in words an agent understands. Nothing outside `sms/` knows a code."""

from __future__ import annotations

from bridge.events import FailureReason, SendFailure

Reason = FailureReason
# code: (reason, words, worth retrying later)
FAILURES: dict[int, tuple[FailureReason, str, bool]] = {
    21211: (Reason.INVALID_NUMBER, "not a valid phone number", False),
    21408: (Reason.REJECTED, "texting this country is not enabled on the Twilio account", False),
    21610: (Reason.OPTED_OUT, "the subscriber has opted out (replied STOP)", False),
    21614: (Reason.INVALID_NUMBER, "not a mobile number that can receive texts", False),
    21617: (Reason.REJECTED, "the message is too long", False),
    30003: (Reason.UNREACHABLE, "unreachable handset (switched off or out of coverage)", True),
    30004: (Reason.BLOCKED, "the recipient blocks messages", False),
    30005: (Reason.INVALID_NUMBER, "unknown number (not in service)", False),
    30006: (Reason.UNREACHABLE, "a landline or an unreachable carrier", False),
    30007: (Reason.BLOCKED, "filtered by the carrier", False),
    30008: (Reason.UNKNOWN, "an unknown carrier error", True),
    30034: (Reason.REJECTED, "the sending number is not registered for A2P 10DLC", False),
    21611: (Reason.RATE_LIMITED, "the sender's queue is full; too many texts at once", True),
    30001: (Reason.RATE_LIMITED, "the sender's queue overflowed", True),
    63016: (Reason.WINDOW_CLOSED, "outside WhatsApp's 24-hour window: only templates", False),
}


def send_failure(code: int | None) -> SendFailure:
    """What a Twilio error code (from an API error or a status callback) means."""
    if code is None:
        return SendFailure(reason=Reason.UNKNOWN)
    reason, words, retryable = FAILURES.get(code, (Reason.UNKNOWN, "error", False))
    return SendFailure(reason=reason, retryable=retryable, detail=words, code=code)
