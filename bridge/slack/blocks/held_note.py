"""The note an agent gets about their held reply, with the buttons to edit it into a
support-only reply or to cancel it (`listeners.held_reply_buttons` answers them)."""

from __future__ import annotations

from typing import Any

from bridge.text import clip

EDIT_ACTION = "held_edit"
CANCEL_ACTION = "held_cancel"


def held_blocks(note: str, message_id: str) -> list[dict[str, Any]]:
    """`note`: mrkdwn, escaped already."""
    return [
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": clip(f":pause_button: {note}", 3000)},
        },
        {
            "type": "actions",
            "block_id": "held_reply",
            "elements": [
                {
                    "type": "button",
                    "action_id": EDIT_ACTION,
                    "text": {"type": "plain_text", "text": "Edit as support-only"},
                    "style": "primary",
                    "value": message_id,
                },
                {
                    "type": "button",
                    "action_id": CANCEL_ACTION,
                    "text": {"type": "plain_text", "text": "Cancel"},
                    "style": "danger",
                    "value": message_id,
                },
            ],
        },
    ]
