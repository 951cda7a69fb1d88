"""How a burst looks: texts of one conversation that waited together for the channel's
pace, one message with a section per text (a long text over several, never cut) and
its time and media in small print; as many texts as fit one message within Block Kit's
limits, the rest left for the next."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bridge.models import Message
from bridge.slack.blocks.mrkdwn import counted, slack_time
from bridge.text import clip

Block = dict[str, Any]

MAX_BLOCKS = 50  # per message
SECTION_LIMIT = 3000  # a section's text
# Slack refused messages of about 13k characters of blocks (msg_blocks_too_long), below
# its documented limits: a message's sections stay under this.
BLOCK_CHARS = 12_000
NOTIFICATION_LIMIT = 4000  # the message's `text`: only notifications show it
# What a draft posted with its texts may take (draft_card: at most 6 blocks).
DRAFT_BLOCKS = 8
DRAFT_CHARS = 4000


def pieces(text: str, limit: int = SECTION_LIMIT) -> list[str]:
    """`text` in pieces of at most `limit` characters that join back to it, cut after a
    line break or space where there is one, never inside an entity (`&amp;`) or a
    `<…>` token."""
    parts: list[str] = []
    while len(text) > limit:
        cut = max(text.rfind("\n", 0, limit), text.rfind(" ", 0, limit)) + 1
        if cut <= limit // 2:
            cut = limit
            entity = text.rfind("&", cut - 8, cut)
            if entity > 0 and ";" not in text[entity:cut]:
                cut = entity
        token = text.rfind("<", 0, cut)  # a date token or link: kept whole
        if token > text.rfind(">", 0, cut) and token > 0:
            cut = token
        parts.append(text[:cut])
        text = text[cut:]
    parts.append(text)
    return parts


def text_blocks(message: Message, shown: str) -> list[Block]:
    """One text's blocks: `shown` (its escaped text, or keyword note) in sections, and
    its time and media in small print."""
    blocks: list[Block] = [
        {
            "type": "section",
            "block_id": f"sms:{message.id}:{number}",
            "text": {"type": "mrkdwn", "text": piece},
        }
        for number, piece in enumerate(pieces(shown))
    ]
    small = slack_time(message.created_at)
    if message.media:
        small += f" · :paperclip: {counted(len(message.media), 'attachment')} below"
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": small}]})
    return blocks


@dataclass(frozen=True)
class Burst:
    """The texts one message carries, and its blocks and notification text."""

    messages: list[Message]
    blocks: list[Block]
    text: str


def burst(
    shown: Sequence[tuple[Message, str]], *, reserve_blocks: int = 0, reserve_chars: int = 0
) -> Burst:
    """The first texts of `shown` (oldest first) that fit one message beside
    `reserve_blocks` and `reserve_chars` (a header card, a draft): at least the first."""
    blocks: list[Block] = []
    taken: list[Message] = []
    texts: list[str] = []
    chars = reserve_chars
    for message, text in shown:
        more = text_blocks(message, text)
        size = sum(len(b["text"]["text"]) for b in more if "text" in b)
        over_blocks = len(blocks) + len(more) + reserve_blocks > MAX_BLOCKS
        if taken and (over_blocks or chars + size > BLOCK_CHARS):
            break
        blocks += more
        chars += size
        taken.append(message)
        texts.append(text)
    return Burst(taken, blocks, clip("\n".join(texts), NOTIFICATION_LIMIT))
