"""Block Kit payloads stay inside Slack's limits, whatever the data (long names,
long texts, many conversations): 50 blocks a message, 100 a Home tab, 3,000
characters a section, 2,000 a context element or button value, 75 a button label,
250 kB a view."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from bridge.models import (
    ConsentState,
    Contact,
    Conversation,
    Direction,
    DraftState,
    Message,
    MessageDraft,
)
from bridge.slack.blocks.burst import burst, pieces
from bridge.slack.blocks.draft_card import draft_blocks, with_text
from bridge.slack.blocks.header_card import render_header
from bridge.slack.blocks.held_note import held_blocks
from bridge.slack.blocks.home_view import InboxFilter, render_home
from bridge.slack.blocks.picker import picker_blocks
from bridge.threading.commands.answers import Reply, Said
from bridge.threading.commands.grammar import Command

NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)
LONG = "Ä" * 5000


def conversation(n: int, **extra: Any) -> Conversation:
    return Conversation(
        id=n,
        business_number="+14155550100",
        subscriber=f"+1415555{n:04d}",
        created_at=NOW,
        last_activity_at=NOW,
        **extra,
    )


def texts(blocks: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(kind, text) of every text object in the blocks."""
    found: list[tuple[str, str]] = []
    for block in blocks:
        if "text" in block and isinstance(block["text"], dict):
            found.append((block["type"], block["text"]["text"]))
        for element in block.get("elements", []):
            if isinstance(element.get("text"), dict):
                found.append(("button", element["text"]["text"]))
            elif "text" in element:
                found.append(("context", element["text"]))
            if "value" in element:
                assert len(element["value"]) <= 2000
        if isinstance(block.get("accessory"), dict):
            found.append(("button", block["accessory"]["text"]["text"]))
    return found


def check(blocks: list[dict[str, Any]], max_blocks: int) -> None:
    assert len(blocks) <= max_blocks
    for kind, text in texts(blocks):
        limit = {"section": 3000, "context": 2000, "button": 75, "header": 150}[kind]
        assert len(text) <= limit, (kind, len(text))


def test_the_header_card_with_a_very_long_name_and_flag_reason() -> None:
    flagged = conversation(1, flagged=True, flag_reason=LONG, assignee="U1")
    _, blocks = render_header(flagged, Contact(phone="+1", name=LONG), ConsentState())
    check(blocks, 50)


def test_the_home_tab_with_many_long_rows() -> None:
    many = [conversation(n, assignee="U1") for n in range(500)]
    names = {c.id: LONG for c in many}
    links = {c.id: "https://x.slack.com/archives/C1/p1" for c in many}
    view = render_home(many, InboxFilter.ALL, names, links)
    check(view["blocks"], 100)
    assert len(json.dumps(view).encode()) < 250_000


def test_pickers_and_held_notes() -> None:
    reply = Reply(Said.WHICH_CONVERSATION, picker=tuple(conversation(n) for n in range(10)))
    check(picker_blocks(reply, Command(action="resolve")), 50)
    check(held_blocks(LONG, "m" * 32), 50)


def test_draft_cards_with_long_texts_in_every_state() -> None:
    for state in DraftState:
        draft = MessageDraft(
            reply=LONG,
            confidence=0.5,
            escalate=True,
            reason=LONG,
            sources=tuple(LONG[:300] for _ in range(20)),
            appointment=LONG,
            engine=LONG,
            note=LONG,
            state=state,
            settled_by="U1",
            settled_at=NOW,
        )
        message = Message(
            id="m" * 36,
            conversation_id=1,
            direction=Direction.INBOUND,
            body=LONG,
            created_at=NOW,
            intent="support",
            urgency="urgent",
            draft=draft,
        )
        blocks = with_text(LONG, message)
        assert blocks is not None
        check(blocks, 50)
        check(
            draft_blocks(
                message.model_copy(update={"draft": draft.model_copy(update={"reply": None})})
            ),
            50,
        )


def inbound(n: int, body: str) -> Message:
    return Message(
        id=f"m{n}", conversation_id=1, direction=Direction.INBOUND, body=body, created_at=NOW
    )


def test_a_long_text_is_split_into_sections_that_join_back_never_inside_an_entity() -> None:
    escaped = "&amp;&lt;" * 900 + " <!date^1^{time}|12:00 UTC> " + "word " * 700
    parts = pieces(escaped)
    assert "".join(parts) == escaped
    assert len(parts) > 1
    assert all(len(part) <= 3000 for part in parts)
    for part in parts[1:]:  # each piece starts where an entity or token does, or a word
        assert not part.startswith(("amp;", "lt;", "date^"))
        assert part.count("<") == part.count(">")


def test_a_burst_takes_the_texts_that_fit_one_message_and_at_least_one() -> None:
    shown = [(inbound(n, "x"), f"text {n}") for n in range(40)]
    first = burst(shown, reserve_blocks=8)
    assert len(first.blocks) <= 50 - 8
    assert [m.id for m in first.messages] == [f"m{n}" for n in range(len(first.messages))]
    assert 1 < len(first.messages) < 40
    check(first.blocks, 50)

    huge = [(inbound(n, "x"), "&amp;" * 1600) for n in range(3)]  # 8,000 characters each
    alone = burst(huge, reserve_chars=4000)
    assert [m.id for m in alone.messages] == ["m0"]
    check(alone.blocks, 50)
    assert "".join(b["text"]["text"] for b in alone.blocks if b["type"] == "section") == huge[0][1]
