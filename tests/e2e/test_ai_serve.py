"""The AI-draft acceptance checks, against `sms-bridge serve` as a process: the offline
engine drafts into the text's own message; a slow Claude (the project's Anthropic
emulator) never holds the text up and its draft follows as its own message; Send is one
SMS however often it is clicked; auto-reply mode answers only what the knowledge base
answers; an overloaded Claude leaves the text posted with "No AI draft"."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

from bridge.ai.drafter import Draft
from bridge.sandbox.anthropic_emulator import AnthropicEmulator
from bridge.sandbox.slack_emulator import SlackEmulator, SlackMessage
from bridge.sandbox.twilio_emulator import TwilioEmulator
from bridge.sandbox.wiring import INBOX
from tests.e2e.conftest import ServeProcess, client
from tests.support import AGENT, BridgeUnderTest, bounded, eventually, parents

pytestmark = pytest.mark.e2e

ANA, CARLA = "+14155550123", "+14155550124"
BOSS = "U0BEN"
FAQ = [
    {"q": "Do you bake gluten-free bread?", "a": "Yes, every Friday; order by Wednesday noon."},
    {"q": "Do you deliver?", "a": "We deliver within 5 miles of the shop for $5."},
    {"q": "Can I pay by card?", "a": "Yes, we take all major cards and Apple Pay."},
]
GLUTEN_FREE = "do u bake gluten free bread?"
ANSWER = "Yes, every Friday; order by Wednesday noon."
KOMBUCHA = "do you sell kombucha?"
WAIT = 0.5  # ai.draft_wait_seconds for the Claude checks
SLOW = 2.0  # how long the slow Claude takes to answer
CLAUDE_ANSWER = Draft(
    reply="Yes! Gluten-free loaves every Friday; order by Wednesday noon.",
    confidence=0.93,
    intent="sales",
    sources=["inline/do-you-bake-gluten-free-bread"],
)


@pytest.fixture(autouse=True)
def team(slack: SlackEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    slack.add_user(AGENT, "ana", "Ana Ruiz")
    slack.add_user(BOSS, "ben", "Ben Ode")
    slack.join(INBOX, AGENT, BOSS)
    # The process inherits this environment: only the tests that want Claude get it.
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("ANTHROPIC_BASE_URL", raising=False)


@pytest.fixture
async def claude() -> AsyncIterator[AnthropicEmulator]:
    emulator = AnthropicEmulator(api_key="sk-test")
    await emulator.start()
    yield emulator
    await bounded(emulator.stop())


def write_config(tmp_path: Path, **ai: Any) -> str:
    path = tmp_path / "bridge.yml"
    config = {
        "business": {"name": "Harbor Street Bakery", "timezone": "America/Los_Angeles"},
        "knowledge": {"faq": FAQ},
        "ai": ai,
    }
    path.write_text(yaml.safe_dump(config))
    return str(path)


async def started(serve: Callable[..., ServeProcess], **env: str) -> ServeProcess:
    process = serve(**env)
    await process.start()
    return process


def claude_env(claude: AnthropicEmulator) -> dict[str, str]:
    assert claude.base_url is not None
    return {"ANTHROPIC_API_KEY": claude.api_key, "ANTHROPIC_BASE_URL": claude.base_url}


# --- reading the Slack workspace ------------------------------------------------------


def thread_of(slack: SlackEmulator, digits: str) -> list[SlackMessage]:
    """The replies in the thread whose parent card names this subscriber."""
    for parent in parents(slack):
        if digits in parent.text:
            return slack.replies(INBOX, parent.ts)
    return []


def block_ids(message: SlackMessage) -> list[str]:
    return [str(block.get("block_id", "")) for block in message.blocks or []]


def has_block(message: SlackMessage, prefix: str) -> bool:
    return any(block_id.startswith(prefix) for block_id in block_ids(message))


def card_text(message: SlackMessage) -> str:
    return json.dumps(message.blocks or [], ensure_ascii=False)


def has_actions(message: SlackMessage) -> bool:
    return any(block.get("type") == "actions" for block in message.blocks or [])


def current(slack: SlackEmulator, card: SlackMessage) -> SlackMessage:
    message = slack.message(INBOX, card.ts)
    assert message is not None
    return message


def thread_posts(slack: SlackEmulator) -> int:
    return len([c for c in slack.calls_to("chat.postMessage") if "thread_ts" in c.args])


async def card_for(slack: SlackEmulator, digits: str, *, within: float = 10) -> SlackMessage:
    """The thread message of this subscriber that holds a draft (or its notice)."""

    def found() -> SlackMessage | None:
        return next(
            (
                m
                for m in thread_of(slack, digits)
                if has_block(m, "draft_") or "No AI draft" in card_text(m)
            ),
            None,
        )

    await eventually(lambda: found() is not None, within=within)
    card = found()
    assert card is not None
    return card


async def click(
    bridge: BridgeUnderTest,
    slack: SlackEmulator,
    card: SlackMessage,
    action_id: str,
    user: str = AGENT,
) -> None:
    """A signed interactivity request, as Slack sends when someone clicks the button."""
    message_id = next(i for i in block_ids(card) if i.startswith("draft_")).split(":", 1)[1]
    payload = slack.block_action(user, action_id, message_id, channel=INBOX, message_ts=card.ts)
    response = await slack.deliver(f"{bridge.url}/slack/events", payload, kind="interactive")
    assert response.status == 200


async def send_twice(bridge: BridgeUnderTest, slack: SlackEmulator, card: SlackMessage) -> None:
    """Send, then Send again by someone else (a double click, a second agent)."""
    await click(bridge, slack, card, "draft_send")
    await eventually(lambda: "Sent by <@U0ANA>" in card_text(current(slack, card)))
    await click(bridge, slack, card, "draft_send", user=BOSS)
    await eventually(lambda: any("already sent" in r.get("text", "") for r in slack.responses))


# --- the serve process's /metrics -----------------------------------------------------


async def tokens(process: ServeProcess, kind: str) -> float:
    async with aiohttp.ClientSession() as http, http.get(f"{process.url}/metrics") as response:
        assert response.status == 200
        text = await response.text()
    found = re.search(rf'^bridge_ai_tokens_total\{{kind="{kind}"\}} (\S+)$', text, re.M)
    return float(found.group(1)) if found else 0.0


async def until(check: Callable[[], Awaitable[bool]], *, within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


# --- the checks -----------------------------------------------------------------------


async def test_offline_draft_shares_the_texts_message_and_send_is_one_sms(
    serve: Callable[..., ServeProcess],
    slack: SlackEmulator,
    twilio: TwilioEmulator,
    tmp_path: Path,
) -> None:
    process = await started(serve, BRIDGE_CONFIG=write_config(tmp_path))
    bridge = client(process, twilio)

    assert (await bridge.text(ANA, GLUTEN_FREE)).status == 200
    card = await card_for(slack, "415-555-0123")

    [only] = thread_of(slack, "415-555-0123")  # the text and its draft: one Slack message
    assert only.ts == card.ts
    assert card.text == GLUTEN_FREE
    assert block_ids(card)[0] == "sms_text"
    assert has_block(card, "draft_reply:")
    assert not has_block(card, "draft_handoff:")
    assert ANSWER in card_text(card)
    assert has_actions(card)
    assert thread_posts(slack) == 1  # one chat.postMessage in the thread

    await send_twice(bridge, slack, card)
    await eventually(lambda: len(twilio.sent_to(ANA)) >= 1)
    await asyncio.sleep(0.3)  # room for a wrongly doubled SMS to show up
    assert [sms.body for sms in twilio.sent_to(ANA)] == [ANSWER]
    assert len(twilio.calls_to("messages.create")) == 1
    assert not has_actions(current(slack, card))
    assert current(slack, card).text == GLUTEN_FREE  # the customer's text stays


async def test_a_slow_claude_never_holds_the_text_up_and_its_draft_follows(
    serve: Callable[..., ServeProcess],
    slack: SlackEmulator,
    twilio: TwilioEmulator,
    claude: AnthropicEmulator,
    tmp_path: Path,
) -> None:
    config = write_config(tmp_path, draft_wait_seconds=WAIT)
    process = await started(serve, BRIDGE_CONFIG=config, **claude_env(claude))
    bridge = client(process, twilio)
    claude.delay(SLOW)
    claude.reply(CLAUDE_ANSWER)

    assert (await bridge.text(ANA, GLUTEN_FREE)).status == 200
    acked = time.monotonic()
    await eventually(lambda: bool(thread_of(slack, "415-555-0123")), within=WAIT + 1.5)
    took = time.monotonic() - acked
    # Posted within the bound, before Claude answered, and with no draft yet.
    [text] = thread_of(slack, "415-555-0123")
    assert claude.requests == [], "the text waited for Claude"
    assert text.text == GLUTEN_FREE
    assert not has_block(text, "draft_")
    assert took < WAIT + 1.5

    # The draft follows as its own message in the thread; the text's message stays.
    card = await card_for(slack, "415-555-0123")
    assert card.ts != text.ts
    assert has_block(card, "draft_reply:")
    assert has_actions(card)
    assert str(CLAUDE_ANSWER.reply) in card_text(card)
    assert [m.ts for m in thread_of(slack, "415-555-0123")] == [text.ts, card.ts]
    assert not has_block(current(slack, text), "draft_")
    assert thread_posts(slack) == 2
    assert time.monotonic() - acked >= SLOW * 0.9  # the draft came when Claude answered

    # The request: a cached system prefix and structured output.
    [request] = claude.requests
    assert request.status == 200
    assert request.auth in ("bearer", "x-api-key")  # the key was sent
    assert any(block.get("cache_control") for block in request.system)
    assert ANSWER in json.dumps(request.system)  # the knowledge base is in the prefix
    assert "output_config" in request.body
    assert GLUTEN_FREE in json.dumps(request.body["messages"])
    await until(lambda: _more_than_zero(process, "cache_write"))

    # Send on the late card: one SMS with Claude's draft, however often it is clicked
    # (before a newer text, whose draft would replace this one).
    await send_twice(bridge, slack, card)
    await eventually(lambda: len(twilio.sent_to(ANA)) >= 1)
    await asyncio.sleep(0.3)
    assert [sms.body for sms in twilio.sent_to(ANA)] == [CLAUDE_ANSWER.reply]

    # A second text reads the cached prefix.
    claude.delay(0)
    claude.reply(CLAUDE_ANSWER.model_copy(update={"reply": "We deliver within 5 miles."}))
    assert (await bridge.text(ANA, "and do you deliver?")).status == 200
    await eventually(lambda: len(claude.requests) == 2)
    await until(lambda: _more_than_zero(process, "cache_read"))
    assert claude.requests[1].system == request.system


async def _more_than_zero(process: ServeProcess, kind: str) -> bool:
    return await tokens(process, kind) > 0


async def test_auto_reply_sends_only_what_the_knowledge_base_answers(
    serve: Callable[..., ServeProcess],
    slack: SlackEmulator,
    twilio: TwilioEmulator,
    tmp_path: Path,
) -> None:
    auto = {"enabled": True, "min_confidence": 0.8, "only_outside_hours": False}
    process = await started(serve, BRIDGE_CONFIG=write_config(tmp_path, auto_reply=auto))
    bridge = client(process, twilio)

    # Not in the knowledge base: the card asks for a person, nothing goes out.
    assert (await bridge.text(CARLA, KOMBUCHA)).status == 200
    unanswered = await card_for(slack, "415-555-0124")
    assert has_block(unanswered, "draft_handoff:")
    assert "Sent automatically" not in card_text(unanswered)

    # Answered with confidence: the assistant sends it and the card says so.
    assert (await bridge.text(ANA, GLUTEN_FREE)).status == 200
    card = await card_for(slack, "415-555-0123")
    await eventually(lambda: len(twilio.sent_to(ANA)) >= 1)
    assert "Sent automatically by the assistant" in card_text(card)
    assert not has_actions(card)

    await asyncio.sleep(0.3)  # room for a wrong or doubled SMS to show up
    assert [sms.body for sms in twilio.sent_to(ANA)] == [ANSWER]
    assert twilio.sent_to(CARLA) == []
    assert len(twilio.calls_to("messages.create")) == 1


async def test_an_overloaded_claude_leaves_the_text_posted_with_no_draft(
    serve: Callable[..., ServeProcess],
    slack: SlackEmulator,
    twilio: TwilioEmulator,
    claude: AnthropicEmulator,
    tmp_path: Path,
) -> None:
    config = write_config(tmp_path, draft_wait_seconds=WAIT)
    process = await started(serve, BRIDGE_CONFIG=config, **claude_env(claude))
    bridge = client(process, twilio)
    claude.fail(529, times=100)  # every attempt, retries included

    assert (await bridge.text(ANA, GLUTEN_FREE)).status == 200
    acked = time.monotonic()
    await eventually(lambda: bool(thread_of(slack, "415-555-0123")), within=WAIT + 1.5)
    assert time.monotonic() - acked < WAIT + 1.5
    assert thread_of(slack, "415-555-0123")[0].text == GLUTEN_FREE

    notice = await card_for(slack, "415-555-0123", within=20)
    assert "No AI draft" in card_text(notice)
    assert "overloaded" in card_text(notice)
    assert not has_block(notice, "draft_reply:")
    assert not has_actions(notice)
    assert claude.requests, "Claude was never asked"
    assert all(r.status == 529 for r in claude.requests)
    await asyncio.sleep(0.3)
    assert twilio.calls_to("messages.create") == []
