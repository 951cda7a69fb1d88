"""The offline engine's rules for the business's tools: which texts ask where an order
stands or to book or move an appointment, and which hand-offs a tool may answer."""

from __future__ import annotations

from bridge.ai.signals import (
    CHANGE_APPOINTMENT,
    ORDER_ACTION,
    any_of,
    find_order_number,
    flat_text,
)

# Hand-offs only because the rules cannot look things up: the tools may answer them.
TOOL_HANDOFFS = ("asks about the status of an order", "asks to move or cancel an appointment")
APPOINTMENT_ACK = "Thanks! We have your request and a team member will confirm it shortly."

_BOOKING_WISH = any_of(
    r"\b(can|could|may) (i|we) (book|schedule|reserve|get)\b.{0,30}\b(appointment|appt|tasting|"
    r"reservation|consultation|slot)\b",
    r"\b(i'?d like|i want|i need|want|need|wanna) to (book|schedule|reserve|make)\b",
)


def order_status_request(text: str) -> str | None:
    """The order number of a text that asks where an order stands (not to change it)."""
    number = find_order_number(text)
    flat = flat_text(text)
    if number is None or ORDER_ACTION.search(flat) or "cancel" in flat or "change" in flat:
        return None
    return number


def appointment_request(text: str) -> bool:
    """Whether a text asks to book, move or cancel an appointment (not just asks about them)."""
    flat = flat_text(text)
    return bool(CHANGE_APPOINTMENT.search(flat) or _BOOKING_WISH.search(flat))
