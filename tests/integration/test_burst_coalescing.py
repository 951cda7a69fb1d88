"""A burst at Slack's real pace: texts of one conversation waiting for the channel's
turn are posted together (each its own section), a new conversation's first texts ride
in the post that opens it, and every text is shown once, in order, with its record
pointing at the message that carries it."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from bridge.config import BusinessConfig, Settings
from bridge.sandbox.slack_emulator import SlackEmulator, SlackMessage
from tests.support import AGENT, INBOX, BridgeUnderTest, eventually

TOKEN = re.compile(r"m(\d\d)x(\d\d)z")
# Slack's published limits for one message.
MAX_BLOCKS = 50
MAX_SECTION = 3000
MAX_TEXT = 40_000


@pytest.fixture
def business_config() -> BusinessConfig:
    return BusinessConfig.model_validate({"slack": {"undo_seconds": 0}})


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


def phone(number: int) -> str:
    return f"+1415555{number:04d}"


def token(number: int, text: int) -> str:
    return f"m{number:02d}x{text:02d}z"


def bot_messages(slack: SlackEmulator) -> list[SlackMessage]:
    """The bridge's messages in the inbox, parents and replies, in the order posted."""
    found: list[SlackMessage] = []
    for parent in slack.messages(INBOX):
        found.append(parent)
        found.extend(slack.replies(INBOX, parent.ts))
    return sorted((m for m in found if m.bot_id), key=lambda m: float(m.ts))


def shown(message: SlackMessage) -> list[tuple[int, int]]:
    """The texts a message shows (their tokens), in order: in its sections, or in its
    plain text when it has no blocks."""
    if not message.blocks:
        parts = [message.text]
    else:
        parts = [
            str(block["text"]["text"])
            for block in message.blocks
            if block.get("type") == "section" and isinstance(block.get("text"), dict)
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
            texts_from(bridge, number, [f"hi {token(number, t)} there" for t in texts])
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
