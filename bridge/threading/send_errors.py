"""Twilio error codes in words an agent understands, and what each means for us."""

from __future__ import annotations

from bridge.compliance.reply_window import WINDOW_CLOSED

OPTED_OUT = 21610

REASONS: dict[int, str] = {
    21211: "not a valid phone number",
    21408: "texting this country is not enabled on the Twilio account",
    21610: "the subscriber has opted out (replied STOP)",
    21614: "not a mobile number that can receive texts",
    21617: "the message is too long",
    30003: "unreachable handset (switched off or out of coverage)",
    30004: "the recipient blocks messages",
    30005: "unknown number (not in service)",
    30006: "a landline or an unreachable carrier",
    30007: "filtered by the carrier",
    30008: "an unknown carrier error",
    30034: "the sending number is not registered for A2P 10DLC",
    21611: "the sender's queue is full; too many texts at once",
    30001: "the sender's queue overflowed",
    63016: WINDOW_CLOSED,  # WhatsApp: outside the 24-hour window, only templates
}


def reason(code: int | None) -> str:
    if code is None:
        return "no reason given"
    return f"{REASONS.get(code, 'error')} ({code})"
