"""The modal in which an agent edits a text before it is sent (a held reply, a draft)."""

from __future__ import annotations

from typing import Any

FIELD_BLOCK = "reply_block"
FIELD = "reply"


def reply_modal(
    callback_id: str, message_id: str, text: str, *, title: str, label: str
) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": callback_id,
        "private_metadata": message_id,
        "title": {"type": "plain_text", "text": title},
        "submit": {"type": "plain_text", "text": "Send"},
        "close": {"type": "plain_text", "text": "Back"},
        "blocks": [
            {
                "type": "input",
                "block_id": FIELD_BLOCK,
                "label": {"type": "plain_text", "text": label},
                "element": {
                    "type": "plain_text_input",
                    "action_id": FIELD,
                    "multiline": True,
                    "max_length": 1600,
                    "initial_value": text,
                },
            }
        ],
    }


def submitted_text(view: dict[str, Any]) -> str:
    """What the person typed ("" when the submission has no such field)."""
    state = view.get("state")
    values = state.get("values") if isinstance(state, dict) else None
    block = values.get(FIELD_BLOCK) if isinstance(values, dict) else None
    field = block.get(FIELD) if isinstance(block, dict) else None
    value = field.get("value") if isinstance(field, dict) else None
    return value if isinstance(value, str) else ""
