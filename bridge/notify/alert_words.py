"""A happening as an alert, in plain words (title, details, and the same as HTML for
mail). Plain text only: each via renders it for its medium (Slack escapes it)."""

from __future__ import annotations

import html
from datetime import datetime

from bridge.events import (
    ConversationAssigned,
    ConversationFlagged,
    DeliveryFailed,
    Event,
    FeedbackLow,
)
from bridge.models import Alert, Conversation, Message
from bridge.phones import display
from bridge.text import clip

MAX_BODY = 1000  # a long text is cut in an alert: the thread has all of it


def who(conversation: Conversation, name: str | None) -> str:
    number = display(conversation.subscriber)
    return f"{clip(name, 80)} ({number})" if name else number


def alert_of(
    name: str,
    event: Event,
    conversation: Conversation,
    *,
    contact: str | None,
    message: Message | None,
    urgent: bool,
    names: dict[str, str],
    at: datetime,
) -> Alert:
    """`name`: the rules' event name; `contact`: the subscriber's name if known; `names`:
    people's names by Slack id, for the ones the event names."""
    person = who(conversation, contact)
    where = f"#{conversation.id} ({conversation.channel.label})"
    lines: list[str] = []
    match name:
        case "message.received":
            title = f"{'Urgent text' if urgent else 'New text'} from {person} · {where}"
            if message is not None:
                lines.append(clip(message.body, MAX_BODY))
        case "conversation.opened":
            title = f"New conversation with {person} · {where}"
        case "conversation.assigned" if isinstance(event, ConversationAssigned):
            assignee = names.get(event.assignee, event.assignee)
            title = f"{where} with {person} is assigned to {assignee}"
        case "conversation.flagged" if isinstance(event, ConversationFlagged):
            title = f"{where} with {person} was flagged"
            if event.reason:
                lines.append(f"Reason: {event.reason}")
        case "conversation.reopened":
            title = f"{where} with {person} was reopened"
        case "delivery.failed" if isinstance(event, DeliveryFailed):
            title = f"A reply to {person} was not delivered · {where}"
            lines.append(f"Why: {event.failure.detail}")
        case "sla.breached":
            title = f"No reply yet to {person} · {where}"
        case "feedback.low" if isinstance(event, FeedbackLow):
            title = f"{person} rated us {event.rating}/5 · {where}"
            lines.append(clip(event.body, MAX_BODY))
        case _:
            title = f"{name} · {person} · {where}"
    text = "\n".join(lines)
    return Alert(
        event=name,
        title=title,
        text=text,
        html=_html(title, lines),
        urgent=urgent,
        conversation=conversation,
        message_id=message.id if message is not None else None,
        body=message.body if message is not None else None,
        at=at,
    )


def _html(title: str, lines: list[str]) -> str:
    parts = [f"<p><strong>{html.escape(title)}</strong></p>"]
    parts += [f"<p>{html.escape(line).replace(chr(10), '<br>')}</p>" for line in lines]
    return "".join(parts)


def digest_html(title: str, alerts: tuple[Alert, ...]) -> str:
    items = "".join(f"<li>{alert.html or html.escape(alert.title)}</li>" for alert in alerts)
    return f"<p><strong>{html.escape(title)}</strong></p><ul>{items}</ul>"


def digest_plain(title: str, alerts: tuple[Alert, ...]) -> str:
    blocks = [title, ""]
    for alert in alerts:
        blocks.append(f"- {alert.title}")
        blocks += [f"  {line}" for line in alert.text.splitlines()]
    return "\n".join(blocks)
