"""Teaching the assistant in Slack: the offer an agent gets after answering a handed-off
text, the dialog that proposes the lesson, and the lessons an admin decides in App Home
(`listeners.teach_buttons` answers them)."""

from __future__ import annotations

import json
from typing import Any

from bridge.ai.learning_desk import MAX_ANSWER, MAX_QUESTION, TeachForm
from bridge.models import Lesson
from bridge.slack.blocks.mrkdwn import escape, mention
from bridge.text import clip

OPEN_ACTION = "teach_open"
MODAL = "teach_modal"
KIND_BLOCK, KIND = "teach_kind", "kind"
QUESTION_BLOCK, QUESTION = "teach_question", "question"
ANSWER_BLOCK, ANSWER = "teach_answer", "answer"
NEW_ENTRY = "new"  # the kind "a new entry"; otherwise "alt:<entry id>"
APPROVE_ACTION = "lesson_approve"
REJECT_ACTION = "lesson_reject"
MAX_LESSONS = 5  # shown in App Home at a time (3 blocks each)


def offer_blocks(note: str, message_id: str) -> list[dict[str, Any]]:
    """`note`: mrkdwn, escaped already."""
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": clip(note, 3000)}},
        {
            "type": "actions",
            "block_id": "teach_offer",
            "elements": [
                {
                    "type": "button",
                    "action_id": OPEN_ACTION,
                    "text": {"type": "plain_text", "text": "Teach the assistant"},
                    "value": message_id,
                }
            ],
        },
    ]


def _option(value: str, text: str) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": clip(text, 150)}, "value": value}


def teach_modal(form: TeachForm) -> dict[str, Any]:
    options = [
        _option(f"alt:{c.entry_id}", f"Another way to ask: {c.title}") for c in form.candidates
    ]
    options.append(_option(NEW_ENTRY, "A new entry with my answer"))
    chosen = f"alt:{form.suggested}" if form.suggested else NEW_ENTRY
    initial = next(o for o in options if o["value"] == chosen)
    memory = {"message": form.message.id, "conversation": form.message.conversation_id}
    return {
        "type": "modal",
        "callback_id": MODAL,
        "private_metadata": json.dumps(memory),
        "title": {"type": "plain_text", "text": "Teach the assistant"},
        "submit": {"type": "plain_text", "text": "Propose"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {
                "type": "context",
                "elements": [
                    {
                        "type": "mrkdwn",
                        "text": "An admin approves it in App Home; then the assistant drafts"
                        " this answer when a customer asks this.",
                    }
                ],
            },
            {
                "type": "input",
                "block_id": QUESTION_BLOCK,
                "label": {"type": "plain_text", "text": "The customer asked"},
                "element": {
                    "type": "plain_text_input",
                    "action_id": QUESTION,
                    "max_length": MAX_QUESTION,
                    "initial_value": form.question,
                },
            },
            {
                "type": "input",
                "block_id": KIND_BLOCK,
                "label": {"type": "plain_text", "text": "Teach it as"},
                "element": {
                    "type": "radio_buttons",
                    "action_id": KIND,
                    "options": options,
                    "initial_option": initial,
                },
            },
            {
                "type": "input",
                "block_id": ANSWER_BLOCK,
                "optional": True,
                "label": {"type": "plain_text", "text": "The answer (for a new entry)"},
                "element": {
                    "type": "plain_text_input",
                    "action_id": ANSWER,
                    "multiline": True,
                    "max_length": MAX_ANSWER,
                    **({"initial_value": form.answer} if form.answer else {}),
                },
            },
        ],
    }


def _state(view: dict[str, Any], block: str, action: str) -> dict[str, Any]:
    state = view.get("state")
    values = state.get("values") if isinstance(state, dict) else None
    fields = values.get(block) if isinstance(values, dict) else None
    field = fields.get(action) if isinstance(fields, dict) else None
    return field if isinstance(field, dict) else {}


def submitted(view: dict[str, Any]) -> tuple[str, str, str | None]:
    """(question, answer, entry id or None for a new entry) as the dialog was sent."""
    question = _state(view, QUESTION_BLOCK, QUESTION).get("value")
    answer = _state(view, ANSWER_BLOCK, ANSWER).get("value")
    option = _state(view, KIND_BLOCK, KIND).get("selected_option")
    kind = option.get("value") if isinstance(option, dict) else None
    entry = kind[len("alt:") :] if isinstance(kind, str) and kind.startswith("alt:") else None
    return (
        question if isinstance(question, str) else "",
        answer if isinstance(answer, str) else "",
        entry or None,
    )


def _lesson_text(lesson: Lesson) -> str:
    asked = f"*“{escape(clip(lesson.question, 300))}”*"
    if lesson.entry_id is not None:
        entry = escape(clip(lesson.entry_title or lesson.entry_id, 200))
        taught = f"{asked}\nanother way to ask *{entry}*"
    else:
        taught = f"{asked}\na new entry: “{escape(clip(lesson.answer or '', 1500))}”"
    return taught


def lessons_blocks(lessons: list[Lesson]) -> list[dict[str, Any]]:
    """The lessons waiting for an admin, oldest first, for the top of App Home: the
    first MAX_LESSONS (read one more to know there are more)."""
    if not lessons:
        return []
    waiting = f"{MAX_LESSONS}+" if len(lessons) > MAX_LESSONS else str(len(lessons))
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": f"Lessons for the assistant ({waiting})"},
        }
    ]
    for lesson in lessons[:MAX_LESSONS]:
        blocks += [
            {"type": "section", "text": {"type": "mrkdwn", "text": _lesson_text(lesson)}},
            {
                "type": "context",
                "elements": [
                    {
                        "type": "mrkdwn",
                        "text": f"Proposed by {mention(lesson.proposed_by)}"
                        f" from #{lesson.conversation_id}",
                    }
                ],
            },
            {
                "type": "actions",
                "block_id": f"lesson:{lesson.id}"[:255],
                "elements": [
                    {
                        "type": "button",
                        "action_id": APPROVE_ACTION,
                        "text": {"type": "plain_text", "text": "Approve"},
                        "style": "primary",
                        "value": lesson.id,
                    },
                    {
                        "type": "button",
                        "action_id": REJECT_ACTION,
                        "text": {"type": "plain_text", "text": "Reject"},
                        "value": lesson.id,
                    },
                ],
            },
        ]
    blocks.append({"type": "divider"})
    return blocks
