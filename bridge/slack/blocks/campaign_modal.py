"""The `/sms campaign` dialog: name, kind, business number, audience (a saved segment
and/or tags), text, an optional flow (poll, rating request, opt-in request), when, and a
live preview. Every input's action id starts with `FIELD_PREFIX`; those that change
the preview dispatch an action as they change (the listener re-renders the preview)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bridge.campaigns.desk import Plan
from bridge.campaigns.plan_words import plan_lines
from bridge.phones import display
from bridge.slack.blocks.campaign_progress import KINDS
from bridge.slack.blocks.mrkdwn import escape
from bridge.text import clip
from bridge.threading.segments import MAX_BODY

MODAL = "campaign_modal"
FIELD_PREFIX = "campaign_field_"
FLOWS = {
    "none": "None",
    "poll": "Poll (reply with a letter)",
    "feedback": "Rating request 1-5",
    "opt_in": "Opt-in request (reply YES)",
}
WHEN = {"now": "Send now", "later": "Send at a time"}
NO_PREVIEW = "_Fill in the audience and the text to see who gets what._"
MAX_NAME = 80


def field(block: str) -> str:
    """The action id of the dialog's input in `block`."""
    return FIELD_PREFIX + block


def _option(value: str, label: str) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": clip(label, 75)}, "value": value}


def _input(
    block: str,
    label: str,
    element: dict[str, Any],
    *,
    optional: bool = False,
    hint: str | None = None,
    live: bool = False,
) -> dict[str, Any]:
    found: dict[str, Any] = {
        "type": "input",
        "block_id": block,
        "optional": optional,
        "label": {"type": "plain_text", "text": label},
        "element": {**element, "action_id": field(block)},
    }
    if hint:
        found["hint"] = {"type": "plain_text", "text": hint}
    if live:
        found["dispatch_action"] = True
    return found


def _select(options: list[dict[str, Any]], *, initial: bool = True) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "static_select", "options": options}
    if initial and options:
        element["initial_option"] = options[0]
    return element


def _text(*, multiline: bool = False, max_length: int = 200, **extra: Any) -> dict[str, Any]:
    return {
        "type": "plain_text_input",
        "multiline": multiline,
        "max_length": max_length,
        **extra,
    }


def campaign_modal(
    *, numbers: Sequence[str], segments: Sequence[str], preview: str | None = None
) -> dict[str, Any]:
    """The dialog; `preview` (mrkdwn, escaped by the caller) below the fields."""
    kinds = [_option(kind.value, label.capitalize()) for kind, label in KINDS.items()]
    typing: dict[str, Any] = {
        "dispatch_action_config": {"trigger_actions_on": ["on_character_entered"]}
    }
    blocks: list[dict[str, Any]] = [
        _input("name", "Name", _text(max_length=MAX_NAME)),
        _input("kind", "Kind", _select(kinds), live=True),
        _input(
            "from",
            "From",
            _select([_option(n, display(n)) for n in numbers[:100]]),
            live=True,
        ),
    ]
    if segments:
        blocks.append(
            _input(
                "segment",
                "Saved segment",
                _select([_option(s, s) for s in segments[:100]], initial=False),
                optional=True,
                live=True,
            )
        )
    blocks += [
        _input(
            "tags",
            "Contacts tagged",
            _text(**typing, placeholder={"type": "plain_text", "text": "regulars, vip"}),
            optional=True,
            hint="Any of these tags; with a segment, both audiences.",
            live=True,
        ),
        _input(
            "text",
            "Text",
            _text(multiline=True, max_length=MAX_BODY, **typing),
            hint="Placeholders: {name} {first_name} {business_name} and contact fields.",
            live=True,
        ),
        _input(
            "flow",
            "Then",
            _select([_option(v, label) for v, label in FLOWS.items()]),
            live=True,
        ),
        _input(
            "options",
            "Poll options",
            _text(multiline=True, max_length=500),
            optional=True,
            hint="One a line, like A: Mango",
        ),
        _input(
            "link",
            "Review link",
            _text(max_length=500),
            optional=True,
            hint="Rating requests: 4 and 5 are asked for a review there.",
        ),
        _input(
            "open_hours",
            "Answers taken for (hours)",
            {"type": "number_input", "is_decimal_allowed": True, "min_value": "0.25"},
            optional=True,
            hint="From the send; polls 24 by default, rating and opt-in requests 72.",
        ),
        _input("when", "When", _select([_option(v, label) for v, label in WHEN.items()])),
        _input("send_at", "Send at", {"type": "datetimepicker"}, optional=True),
        {
            "type": "context",
            "block_id": "preview",
            "elements": [{"type": "mrkdwn", "text": clip(preview or NO_PREVIEW, 2000)}],
        },
    ]
    return {
        "type": "modal",
        "callback_id": MODAL,
        "title": {"type": "plain_text", "text": "New SMS campaign"},
        "submit": {"type": "plain_text", "text": "Create"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": blocks,
    }


def preview_text(plan: Plan) -> str:
    """What the campaign would do, in the CLI's words (escaped): who gets it and who
    not by reason, quiet hours, encoding and segments, duration, the sample's text."""
    return "\n".join(escape(line) for line in plan_lines(plan))
