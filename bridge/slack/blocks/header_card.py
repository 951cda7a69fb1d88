"""The thread's parent message: the conversation's header card (Block Kit)."""

from __future__ import annotations

from typing import Any

from bridge.models import Channel, ConsentState, Contact, Conversation, ConversationStatus
from bridge.phones import display
from bridge.slack.blocks.mrkdwn import escape, slack_time
from bridge.slack.blocks.wording import hours_text, team_label
from bridge.text import clip
from bridge.threading.opening_hours import Opening

MAX_REASON = 2000  # a context element's text
MAX_NAME = 200
ASSIGN_ME = "header_assign_me"
RESOLVE = "header_resolve"
REOPEN = "header_reopen"
FLAG = "header_flag"
UNFLAG = "header_unflag"

# The most a card takes of a message it shares with a burst's texts (`blocks/burst.py`).
CARD_BLOCKS = 4
CARD_CHARS = 1500


def status_label(conversation: Conversation) -> str:
    flagged = ":triangular_flag_on_post: Flagged"
    if conversation.status is ConversationStatus.RESOLVED:
        # A flag set after resolving (by a person, or the assistant) stays in sight.
        return ":white_check_mark: Resolved" + (f" · {flagged}" if conversation.flagged else "")
    return flagged if conversation.flagged else ":large_green_circle: Open"


def channel_label(conversation: Conversation) -> str:
    """Where a conversation is other than SMS, the channel, before its number."""
    channel = conversation.channel
    return "" if channel is Channel.SMS else f"{channel.label} · "


def opt_out_label(consent: ConsentState) -> str:
    if consent.conversational:
        return ""
    when = f" {slack_time(consent.revoked_at)}" if consent.revoked_at else ""
    return f" · :no_entry_sign: *opted out*{when}"


def render_header(
    conversation: Conversation,
    contact: Contact | None,
    consent: ConsentState,
    hours: Opening | None = None,
) -> tuple[str, list[dict[str, Any]]]:
    """The fallback text (notifications, screen readers) and the card's blocks; `hours`:
    the business number's opening hours when the card is drawn."""
    number = channel_label(conversation) + display(conversation.subscriber)
    name = escape(clip(contact.name, MAX_NAME)) if contact and contact.name else None
    who = f"{name} · {number}" if name else number
    assignee = f"<@{conversation.assignee}>" if conversation.assignee else "unassigned"
    team = team_label(conversation.team)
    text = f"{conversation.channel.label} conversation #{conversation.id} with {who}"
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
                        f"{status_label(conversation)} · {team}{assignee} · "
                        f"to {display(conversation.business_number)} · "
                        f"last activity {slack_time(conversation.last_activity_at)}"
                        f"{opt_out_label(consent)}"
                        f"{f' · :clock3: {hours_text(hours)}' if hours else ''}"
                    ),
                }
            ],
        },
        {"type": "actions", "block_id": "header_actions", "elements": _buttons(conversation)},
    ]
    if conversation.flagged and conversation.flag_reason:
        reason = clip(escape(conversation.flag_reason), MAX_REASON)
        blocks.insert(2, {"type": "context", "elements": [{"type": "mrkdwn", "text": reason}]})
    return text, blocks


def _button(action_id: str, label: str, conversation: Conversation, **extra: str) -> dict[str, Any]:
    return {
        "type": "button",
        "action_id": action_id,
        "text": {"type": "plain_text", "text": label},
        "value": str(conversation.id),
        **extra,
    }


def _buttons(conversation: Conversation) -> list[dict[str, Any]]:
    resolved = conversation.status is ConversationStatus.RESOLVED
    return [
        _button(ASSIGN_ME, "Assign to me", conversation),
        _button(REOPEN, "Reopen", conversation)
        if resolved
        else _button(RESOLVE, "Resolve", conversation, style="primary"),
        _button(UNFLAG, "Unflag", conversation)
        if conversation.flagged
        else _button(FLAG, "Flag", conversation),
    ]
