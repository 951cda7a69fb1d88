"""What the inbox shows, read as a person reads it: shared by the tests and the
benchmarks that check each text shows once, in order."""

from __future__ import annotations

from bridge.sandbox.slack_emulator import SlackEmulator, SlackMessage
from bridge.sandbox.wiring import INBOX


def parents(slack: SlackEmulator) -> list[SlackMessage]:
    """Every SMS conversation's parent card, oldest first."""
    return [m for m in slack.messages(INBOX) if m.text.startswith("SMS conversation")]


def shown_by_message(slack: SlackEmulator, parent: SlackMessage) -> list[tuple[str, list[str]]]:
    """Each message of a conversation (its parent card, then its thread) with the texts
    it shows: a message carrying several (a burst) read section by section, any other
    by its text."""
    shown = [(parent.ts, _carried(parent))]
    for reply in slack.replies(INBOX, parent.ts):
        shown.append((reply.ts, _carried(reply) or [reply.text]))
    return shown


def shown_in(slack: SlackEmulator, parent: SlackMessage) -> list[str]:
    """The texts a conversation shows, in order, however they were grouped."""
    return [text for _, texts in shown_by_message(slack, parent) for text in texts]


def _carried(message: SlackMessage) -> list[str]:
    texts: dict[str, str] = {}
    for block in message.blocks or []:
        parts = str(block.get("block_id", "")).split(":")
        if parts[0] == "sms" and len(parts) == 3:  # sms:<message id>:<piece>
            texts[parts[1]] = texts.get(parts[1], "") + block["text"]["text"]
    return list(texts.values())
