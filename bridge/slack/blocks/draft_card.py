"""How an AI draft looks in a thread: the proposed reply with Send · Edit & send ·
Discard, or the hand-off reason; intent, urgency and confidence in small print; after a
decision, who sent or discarded it. Posted with its text when it was ready in time,
else as its own message."""

from __future__ import annotations

from typing import Any

from bridge.models import DraftState, Message, MessageDraft, percent
from bridge.slack.blocks.burst import SECTION_LIMIT, pieces
from bridge.slack.blocks.mrkdwn import escape, mention, slack_time
from bridge.slack.blocks.wording import draft_note_text
from bridge.text import clip

DRAFT_REPLY = "draft_reply"
DRAFT_HANDOFF = "draft_handoff"
SEND = "draft_send"
EDIT = "draft_edit"
DISCARD = "draft_discard"

CONTEXT_LIMIT = 2000  # a context element

Block = dict[str, Any]


def _context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": clip(text, CONTEXT_LIMIT)}]}


def _section(text: str, block_id: str | None = None) -> Block:
    block: Block = {
        "type": "section",
        "text": {"type": "mrkdwn", "text": clip(text, SECTION_LIMIT)},
    }
    if block_id is not None:
        block["block_id"] = block_id
    return block


def _button(text: str, action_id: str, value: str, style: str | None = None) -> Block:
    button: Block = {
        "type": "button",
        "text": {"type": "plain_text", "text": text},
        "action_id": action_id,
        "value": value,
    }
    if style is not None:
        button["style"] = style
    return button


def _quoted(text: str) -> str:
    return "\n".join(f">{line}" for line in escape(text).splitlines() or [""])


def _small_print(message: Message, draft: MessageDraft) -> str:
    parts = [message.intent or "other", f"{message.urgency or 'normal'} urgency"]
    if draft.reply is not None:
        parts.append(f"confidence {percent(draft.confidence)}")
    if draft.sources:
        parts.append("from " + ", ".join(f"`{escape(s)}`" for s in draft.sources[:5]))
    parts.append(escape(draft.engine))
    if message.urgency == "urgent":
        parts[1] = ":rotating_light: urgent"
    return " · ".join(parts)


def _outcome(draft: MessageDraft) -> str | None:
    when = f" · {slack_time(draft.settled_at)}" if draft.settled_at else ""
    who = mention(draft.settled_by) if draft.settled_by else "someone"
    if draft.state is DraftState.AUTO_SENT:
        return f":robot_face: Sent automatically by the assistant{when}"
    if draft.state is DraftState.SENT:
        return f":white_check_mark: Sent by {who}{when}"
    if draft.state is DraftState.EDITED:
        return f":pencil2: Edited and sent by {who}{when}"
    if draft.state is DraftState.DISCARDED:
        return f":wastebasket: Discarded by {who}{when}"
    if draft.state is DraftState.SUPERSEDED:
        return f":arrow_down: Replaced by a newer draft{when}"
    return None


def draft_blocks(message: Message, *, answering: bool = False) -> list[Block]:
    """The draft part of a message; empty when the text has no draft. `answering`: the
    draft is a message of its own, which names the text it answers (later texts may
    have come in between)."""
    draft = message.draft
    if draft is None:
        return []
    blocks: list[Block] = []
    if answering:
        blocks.append(_context(f"Answering “{escape(clip(message.body.strip(), 150))}”"))
    if draft.state is DraftState.UNAVAILABLE:
        return [*blocks, _context(f":warning: {draft_note_text(draft.note or 'No AI draft.')}")]
    if draft.reply is not None:
        blocks.append(
            _section(
                f":sparkles: *Suggested reply*\n{_quoted(draft.reply)}",
                f"{DRAFT_REPLY}:{message.id}",
            )
        )
        if draft.escalate:
            blocks.append(_context(f":raising_hand: Check first: {escape(draft.reason or '')}"))
    elif draft.escalate:
        blocks.append(
            _section(
                f":raising_hand: *Needs a person:* {escape(draft.reason or '')}",
                f"{DRAFT_HANDOFF}:{message.id}",
            )
        )
    elif draft.reason:
        blocks.append(_context(f":speech_balloon: No reply needed: {escape(draft.reason)}"))
    if draft.appointment:
        blocks.append(_section(f":calendar: *Appointment request:* {escape(draft.appointment)}"))
    if draft.state is DraftState.PROPOSED:
        blocks.append(
            {
                "type": "actions",
                "block_id": f"draft_actions:{message.id}",
                "elements": [
                    _button("Send", SEND, message.id, "primary"),
                    _button("Edit & send", EDIT, message.id),
                    _button("Discard", DISCARD, message.id),
                ],
            }
        )
    elif (outcome := _outcome(draft)) is not None:
        blocks.append(_context(outcome))
        if draft.sent_text:
            blocks.append(_section(f"*Sent instead*\n{_quoted(draft.sent_text)}"))
    blocks.append(_context(_small_print(message, draft)))
    if draft.note:
        blocks.append(_context(f":information_source: {draft_note_text(draft.note)}"))
    return blocks


def draft_text(message: Message) -> str:
    """The notification text of a draft posted on its own."""
    draft = message.draft
    if draft is not None and draft.state is DraftState.UNAVAILABLE:
        return draft_note_text(draft.note or "No AI draft.")
    if draft is None or draft.reply is None:
        reason = draft.reason if draft and draft.reason else "a person should answer"
        return f"Needs a person: {escape(reason)}"
    return f"Suggested reply: {escape(draft.reply)}"


def with_text(text: str, message: Message) -> list[Block] | None:
    """The blocks of an inbound text posted together with its draft (None: no draft,
    a plain message)."""
    extra = draft_blocks(message)
    if not extra:
        return None
    # A long text (an escaped 1,600-character SMS is up to 8,000) over several sections.
    sections = [
        _section(piece, "sms_text" if number == 0 else f"sms_text:{number}")
        for number, piece in enumerate(pieces(text))
    ]
    return [*sections, *extra]
