"""The thread's parent message: the conversation's header card (Block Kit)."""

from __future__ import annotations

from typing import Any

from bridge.models import ConsentState, Contact, Conversation, ConversationStatus
from bridge.phones import display
from bridge.slack.mrkdwn import escape, slack_time


def status_label(conversation: Conversation) -> str:
    if conversation.status is ConversationStatus.RESOLVED:
        return ":white_check_mark: Resolved"
    if conversation.flagged:
        return ":triangular_flag_on_post: Flagged"
    return ":large_green_circle: Open"


def opt_out_label(consent: ConsentState) -> str:
    if consent.conversational:
        return ""
    when = f" {slack_time(consent.revoked_at)}" if consent.revoked_at else ""
    return f" · :no_entry_sign: *opted out*{when}"


def render_header(
    conversation: Conversation, contact: Contact | None, consent: ConsentState
) -> tuple[str, list[dict[str, Any]]]:
    """The fallback text (notifications, screen readers) and the card's blocks."""
    number = display(conversation.subscriber)
    who = f"{escape(contact.name)} · {number}" if contact and contact.name else number
    assignee = f"<@{conversation.assignee}>" if conversation.assignee else "unassigned"
    text = f"SMS conversation #{conversation.id} with {who}"
    blocks: list[dict[str, Any]] = [
        {
            "type": "section",
            "block_id": "header_contact",
            "text": {"type": "mrkdwn", "text": f":speech_balloon: *{who}*  `#{conversation.id}`"},
        },
        {
            "type": "context",
            "block_id": "header_state",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": (
                        f"{status_label(conversation)} · {assignee} · "
                        f"to {display(conversation.business_number)} · "
                        f"last activity {slack_time(conversation.last_activity_at)}"
                        f"{opt_out_label(consent)}"
                    ),
                }
            ],
        },
    ]
    return text, blocks
