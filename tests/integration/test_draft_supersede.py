"""A newer draft replaces the older unsent ones of its conversation: their buttons go,
and a click on one (a card still on someone's screen) sends nothing."""

from __future__ import annotations

import json

import pytest

from bridge.config import BusinessConfig
from bridge.sandbox.slack_emulator import SlackEmulator
from bridge.sandbox.twilio_emulator import TwilioEmulator
from tests.support import AGENT, INBOX, BridgeUnderTest, eventually, open_thread

ANA = "+14155550123"
HOURS = "When do you open?"
BREAD = "Do you bake gluten-free bread?"
FAQ = [
    {"q": HOURS, "a": "We open at 7 every weekday."},
    {"q": BREAD, "a": "Yes, every Friday; order by Wednesday noon."},
]


@pytest.fixture
def business_config() -> BusinessConfig:
    return BusinessConfig.model_validate({"slack": {"undo_seconds": 0}, "knowledge": {"faq": FAQ}})


@pytest.fixture(autouse=True)
def team(slack: SlackEmulator) -> None:
    slack.add_user(AGENT, "ana", "Ana Ruiz", display_name="Ana")
    slack.join(INBOX, AGENT)


def buttons(card: object) -> dict[str, str]:
    found: dict[str, str] = {}
    for block in getattr(card, "blocks", None) or []:
        for element in block.get("elements", []):
            if "action_id" in element:
                found[element["action_id"]] = element.get("value", "")
    return found


async def test_a_newer_draft_replaces_an_older_unsent_one(
    bridge: BridgeUnderTest, slack: SlackEmulator, twilio: TwilioEmulator
) -> None:
    thread = await open_thread(bridge, slack, ANA)
    await bridge.text(ANA, HOURS)
    await eventually(lambda: any(HOURS in m.text for m in slack.replies(INBOX, thread)))
    [first] = [m for m in slack.replies(INBOX, thread) if HOURS in m.text]
    send_first = buttons(first)["draft_send"]
    await bridge.text(ANA, BREAD)
    await eventually(lambda: any(BREAD in m.text for m in slack.replies(INBOX, thread)))
    await bridge.idle()

    replaced = slack.message(INBOX, first.ts)
    assert replaced is not None
    assert "draft_send" not in buttons(replaced)
    assert "newer draft" in json.dumps(replaced.blocks)
    # A click on the old card, as it was on someone's screen, sends nothing.
    click = slack.block_action(AGENT, "draft_send", send_first, channel=INBOX, message_ts=first.ts)
    await slack.deliver(f"{bridge.url}/slack/events", click, kind="interactive")
    await eventually(lambda: any("newer" in json.dumps(r) for r in slack.responses))
    await bridge.idle()
    assert twilio.sent == []
    # The newer draft is still there to send.
    [second] = [m for m in slack.replies(INBOX, thread) if BREAD in m.text]
    assert "draft_send" in buttons(second)
