"""What a delivered reply shows in Slack: a mark that is no command (✅ resolves a
conversation), on typed replies and on drafts sent with a click alike."""

from __future__ import annotations

import json

import pytest

from bridge.config import BusinessConfig
from bridge.sandbox.slack_emulator import SlackEmulator
from bridge.sandbox.twilio_emulator import TwilioEmulator
from bridge.slack.jobs.delivery_marks import DELIVERED
from tests.support import (
    AGENT,
    INBOX,
    BridgeUnderTest,
    agent_replies,
    eventually,
    open_thread,
)

ANA = "+14155550123"
QUESTION = "Do you bake gluten-free bread?"
ANSWER = "Yes, every Friday; order by Wednesday noon."


@pytest.fixture
def business_config() -> BusinessConfig:
    return BusinessConfig.model_validate(
        {"slack": {"undo_seconds": 0}, "knowledge": {"faq": [{"q": QUESTION, "a": ANSWER}]}}
    )


@pytest.fixture(autouse=True)
def team(slack: SlackEmulator) -> None:
    slack.add_user(AGENT, "ana", "Ana Ruiz", display_name="Ana")
    slack.join(INBOX, AGENT)


def card_text(slack: SlackEmulator, ts: str) -> str:
    parent = slack.message(INBOX, ts)
    assert parent is not None
    return json.dumps(parent.blocks)


async def test_a_delivered_reply_is_marked_with_no_command(
    bridge: BridgeUnderTest, slack: SlackEmulator, twilio: TwilioEmulator
) -> None:
    thread = await open_thread(bridge, slack, ANA)
    reply, _ = await agent_replies(bridge, slack, thread, "on its way")
    await eventually(lambda: len(twilio.sent) == 1)
    await twilio.send_status(twilio.sent[0].sid, "delivered")
    ts = reply["event"]["ts"]
    await eventually(lambda: DELIVERED in slack.message(INBOX, ts).reactions)  # type: ignore[union-attr]
    assert "white_check_mark" not in slack.message(INBOX, ts).reactions  # type: ignore[union-attr]
    # A teammate agreeing with the mark (clicking it too) changes nothing.
    agree = slack.user_reacts(INBOX, ts, AGENT, DELIVERED)
    await slack.deliver(f"{bridge.url}/slack/events", agree)
    await bridge.idle()
    assert "Resolved" not in card_text(slack, thread)


async def test_a_draft_sent_with_a_click_is_marked_like_a_typed_reply(
    bridge: BridgeUnderTest, slack: SlackEmulator, twilio: TwilioEmulator
) -> None:
    thread = await open_thread(bridge, slack, ANA)
    await bridge.text(ANA, QUESTION)
    await eventually(lambda: any(QUESTION in m.text for m in slack.replies(INBOX, thread)))
    [card] = [m for m in slack.replies(INBOX, thread) if QUESTION in m.text]
    click = slack.block_action(AGENT, "draft_send", _value(card), channel=INBOX, message_ts=card.ts)
    await slack.deliver(f"{bridge.url}/slack/events", click, kind="interactive")
    await eventually(lambda: [m.body for m in twilio.sent] == [ANSWER])
    await twilio.send_status(twilio.sent[0].sid, "delivered")
    await eventually(lambda: DELIVERED in slack.message(INBOX, card.ts).reactions)  # type: ignore[union-attr]


def _value(card: object) -> str:
    blocks = getattr(card, "blocks", None) or []
    for block in blocks:
        for element in block.get("elements", []):
            if element.get("action_id") == "draft_send":
                return str(element["value"])
    raise AssertionError("no Send button on the card")
