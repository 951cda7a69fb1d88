"""A burst at Slack's real pace: texts of one conversation waiting for the channel's
turn are posted together (each its own section), a new conversation's first texts ride
in the post that opens it, and every text is shown once, in order, with its record
pointing at the message that carries it."""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from bridge.config import BusinessConfig, Settings
from bridge.sandbox.slack_emulator import SlackEmulator, SlackMessage
from tests.integration.test_ai_drafts import GLUTEN_FREE, ai_config
from tests.support import AGENT, INBOX, BridgeUnderTest, eventually

# Reads as no word to the assistant (a question still finds its answer).
TOKEN = re.compile(r"\[(\d\d)(\d\d)\]")
# Slack's published limits for one message.
MAX_BLOCKS = 50
MAX_SECTION = 3000
MAX_TEXT = 40_000


@pytest.fixture
def business_config() -> BusinessConfig:
    return ai_config()  # a knowledge base: a burst's last question gets a proposed reply


@pytest.fixture
def extra_env() -> dict[str, str]:
    # The bridge's own pace as shipped (about one post a second per channel).
    settings = Settings.model_fields
    rate, burst = settings["bridge_slack_post_rate"], settings["bridge_slack_post_burst"]
    return {
        "BRIDGE_SLACK_POST_RATE": str(rate.default),
        "BRIDGE_SLACK_POST_BURST": str(burst.default),
    }


@pytest.fixture(autouse=True)
def slacks_limits(slack: SlackEmulator) -> None:
    slack.add_user(AGENT, "ana", "Ana Ruiz", display_name="Ana")
    slack.join(INBOX, AGENT)
    slack.rate_limit("chat.postMessage", per_second=1, per_channel=True)


def ask(text: int) -> str:
    return GLUTEN_FREE if text == 9 else "hi there"


def phone(number: int) -> str:
    return f"+1415555{number:04d}"


def token(number: int, text: int) -> str:
    return f"[{number:02d}{text:02d}]"


def bot_messages(slack: SlackEmulator) -> list[SlackMessage]:
    """The bridge's messages in the inbox, parents and replies, in the order posted."""
    found: list[SlackMessage] = []
    for parent in slack.messages(INBOX):
        found.append(parent)
        found.extend(slack.replies(INBOX, parent.ts))
    return sorted((m for m in found if m.bot_id), key=lambda m: float(m.ts))


def shown(message: SlackMessage) -> list[tuple[int, int]]:
    """The texts a message shows (their tokens), in order: in its texts' sections, or
    in its plain text when it has no blocks."""
    if not message.blocks:
        parts = [message.text]
    else:
        parts = [
            str(block["text"]["text"])
            for block in message.blocks
            if str(block.get("block_id", "")).startswith("sms")
        ]
    return [(int(a), int(b)) for part in parts for a, b in TOKEN.findall(part)]


def placements(slack: SlackEmulator) -> dict[tuple[int, int], list[str]]:
    where: dict[tuple[int, int], list[str]] = defaultdict(list)
    for message in bot_messages(slack):
        for found in shown(message):
            where[found].append(message.ts)
    return where


def within_limits(message: SlackMessage) -> bool:
    blocks: list[dict[str, Any]] = message.blocks or []
    sections = [b["text"]["text"] for b in blocks if isinstance(b.get("text"), dict)]
    return (
        len(blocks) <= MAX_BLOCKS
        and all(len(text) <= MAX_SECTION for text in sections)
        and len(message.text) <= MAX_TEXT
    )


def records(db: Path) -> dict[tuple[int, int], tuple[str, str]]:
    """Each inbound text's record: where the store says Slack shows it."""
    with sqlite3.connect(db) as connection:
        rows = connection.execute(
            "SELECT body, slack_channel, slack_ts FROM messages WHERE direction = 'inbound'"
        ).fetchall()
    found: dict[tuple[int, int], tuple[str, str]] = {}
    for body, channel, ts in rows:
        match = TOKEN.search(body)
        if match:
            found[(int(match[1]), int(match[2]))] = (channel, ts)
    return found


def posts(slack: SlackEmulator) -> int:
    calls = slack.calls_to("chat.postMessage")
    return sum(1 for c in calls if not c.failed and c.args.get("channel") == INBOX)


def check_exactly_once_in_order(
    slack: SlackEmulator, db: Path, sent: dict[int, list[int]]
) -> dict[tuple[int, int], list[str]]:
    where = placements(slack)
    expected = {(number, text) for number, texts in sent.items() for text in texts}
    assert {k: v for k, v in where.items() if len(v) != 1} == {}  # nobody's text twice
    assert set(where) == expected
    order: dict[int, list[int]] = defaultdict(list)
    for message in bot_messages(slack):
        for number, text in shown(message):
            order[number].append(text)
    assert dict(order) == sent  # in order per number
    stored = records(db)
    assert set(stored) == expected
    for text, (channel, ts) in stored.items():
        assert channel == INBOX
        assert [ts] == where[text]
    return where


async def texts_from(bridge: BridgeUnderTest, number: int, bodies: list[str]) -> None:
    for body in bodies:  # one subscriber's texts arrive in order
        response = await bridge.text(phone(number), body)
        assert response.status == 200


async def test_a_burst_from_ten_new_numbers_takes_few_posts_each_text_once_in_order(
    bridge: BridgeUnderTest, slack: SlackEmulator, db_path: Path
) -> None:
    sent = {number: list(range(10)) for number in range(10)}
    await asyncio.gather(
        *(
            texts_from(bridge, number, [f"{ask(t)} {token(number, t)}" for t in texts])
            for number, texts in sent.items()
        )
    )
    await eventually(lambda: len(placements(slack)) == 100, within=110)
    await bridge.idle(within=60)

    where = check_exactly_once_in_order(slack, db_path, sent)
    assert posts(slack) <= 25  # 110 posts before: one per text, one per new thread
    assert all(within_limits(m) for m in bot_messages(slack))

    # A reaction on a message carrying several texts acts on their conversation.
    carriers = defaultdict(list)
    for (number, _), (ts,) in where.items():
        carriers[ts].append(number)
    ts, numbers = next((ts, n) for ts, n in carriers.items() if len(n) > 1)
    conversation = phone(numbers[0])
    event = slack.user_reacts(INBOX, ts, AGENT, "white_check_mark")
    assert (await slack.deliver(f"{bridge.url}/slack/events", slack.envelope(event))).status == 200
    await eventually(lambda: resolved(db_path) == {conversation}, within=30)

    # One draft shown per burst, its latest text's, in the message that carries it.
    for carried in drafts_by_carrier(db_path).values():
        assert carried[:-1] == [False] * (len(carried) - 1)
    # A draft in a card that carries texts: deciding on it keeps the card and its texts.
    card = next(
        m for m in slack.messages(INBOX) if any(b.startswith("draft_actions:") for b in ids(m))
    )
    message_id = next(b for b in ids(card) if b.startswith("draft_actions:")).split(":", 1)[1]
    payload = slack.block_action(
        AGENT, "draft_discard", message_id, channel=INBOX, message_ts=card.ts
    )
    before = shown(card)
    assert (
        await slack.deliver(f"{bridge.url}/slack/events", payload, kind="interactive")
    ).status == 200
    await eventually(lambda: "Discarded" in json.dumps(current(slack, card.ts).blocks), within=30)
    await bridge.idle(within=60)
    assert shown(current(slack, card.ts)) == before
    assert "header_contact" in ids(current(slack, card.ts))
    check_exactly_once_in_order(slack, db_path, sent)  # the cards' updates kept every text


def ids(message: SlackMessage) -> list[str]:
    return [str(b.get("block_id", "")) for b in message.blocks or []]


def current(slack: SlackEmulator, ts: str) -> SlackMessage:
    message = slack.message(INBOX, ts)
    assert message is not None
    return message


def drafts_by_carrier(db: Path) -> dict[str, list[bool]]:
    """For each Slack message carrying texts: whether each text (oldest first) has its
    draft shown there."""
    with sqlite3.connect(db) as connection:
        rows = connection.execute(
            "SELECT slack_ts, coalesce(json_extract(draft, '$.slack_ts') = slack_ts, 0)"
            " FROM messages WHERE direction = 'inbound' ORDER BY created_at, rowid"
        ).fetchall()
    found: dict[str, list[bool]] = defaultdict(list)
    for ts, has in rows:
        found[ts].append(bool(has))
    return found


def resolved(db: Path) -> set[str]:
    with sqlite3.connect(db) as connection:
        rows = connection.execute(
            "SELECT subscriber FROM conversations WHERE status = 'resolved'"
        ).fetchall()
    return {row[0] for row in rows}


async def test_a_burst_past_one_messages_limits_is_split_and_nothing_is_cut(
    bridge: BridgeUnderTest, slack: SlackEmulator, db_path: Path
) -> None:
    # 40 texts (over 50 blocks as sections with their times), every fourth one the
    # longest SMS of characters Slack escapes (over a section's 3,000 characters).
    long = "&<>" * 530
    bodies = [f"{token(0, t)} {long if t % 4 == 3 else 'short'}" for t in range(40)]
    await texts_from(bridge, 0, bodies)
    await eventually(lambda: len(placements(slack)) == 40, within=110)
    await bridge.idle(within=60)

    where = check_exactly_once_in_order(slack, db_path, {0: list(range(40))})
    carriers = {ts for (ts,) in where.values()}
    assert len(carriers) < 40  # coalesced
    assert all(within_limits(m) for m in bot_messages(slack))
    escaped = long.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    for message in bot_messages(slack):  # a long text is split, never cut
        sections = "".join(
            b["text"]["text"] for b in message.blocks or [] if isinstance(b.get("text"), dict)
        )
        if any(t % 4 == 3 for _, t in shown(message)):
            assert sections.count(escaped) == sum(1 for _, t in shown(message) if t % 4 == 3)
