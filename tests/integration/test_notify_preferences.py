"""Each person's notification choices in App Home (mute, urgent only, digests only,
quiet hours): shown in their Home, stored, and honoured by the rules — a muted person
gets no alert for an urgent text that still reaches the others."""

from __future__ import annotations

from typing import Any

import pytest

from bridge.config import BusinessConfig
from bridge.sandbox.slack_emulator import SlackEmulator
from tests.support import AGENT, INBOX, BridgeUnderTest, eventually

BEN = "U0BEN"
URGENT = "URGENT: my cake never arrived and the party starts in an hour!"


@pytest.fixture
def business_config() -> BusinessConfig:
    rule = {
        "on": "message.received",
        "when": {"urgency": "urgent"},
        "notify": [AGENT, BEN],
        "via": "slack_dm",
    }
    return BusinessConfig.model_validate({"notifications": {"rules": [rule]}})


@pytest.fixture(autouse=True)
def team(slack: SlackEmulator) -> None:
    slack.add_user(AGENT, "ana", "Ana Ruiz")
    slack.add_user(BEN, "ben", "Ben Ode")
    slack.join(INBOX, AGENT, BEN)


def chosen(slack: SlackEmulator, action_id: str) -> Any:
    view = slack.home_views.get(AGENT)
    if view is None:
        return None
    for block in view["blocks"]:
        for element in block.get("elements", []):
            if element.get("action_id") == action_id:
                return (element.get("initial_option") or {}).get("value")
    return None


async def pick(bridge: BridgeUnderTest, slack: SlackEmulator, action_id: str, value: str) -> None:
    choose = slack.block_action(AGENT, action_id, "", channel=INBOX)
    choose["view"] = slack.home_views[AGENT]
    choose["actions"] = [
        {
            "type": "static_select",
            "action_id": action_id,
            "block_id": "home_notify",
            "selected_option": {"text": {"type": "plain_text", "text": value}, "value": value},
        }
    ]
    await slack.deliver(f"{bridge.url}/slack/events", choose, kind="interactive")


async def test_a_muted_person_is_not_alerted_and_the_home_shows_the_choices(
    bridge: BridgeUnderTest, slack: SlackEmulator
) -> None:
    url = f"{bridge.url}/slack/events"
    opened = {"type": "app_home_opened", "user": AGENT, "tab": "home", "event_ts": "1.0"}
    await slack.deliver(url, opened)
    await eventually(lambda: chosen(slack, "home_notify_mode") == "all")
    assert chosen(slack, "home_quiet_hours") == "off"

    await pick(bridge, slack, "home_notify_mode", "mute")
    await eventually(lambda: chosen(slack, "home_notify_mode") == "mute")
    await pick(bridge, slack, "home_quiet_hours", "22:00-07:00")
    await eventually(lambda: chosen(slack, "home_quiet_hours") == "22:00-07:00")
    assert chosen(slack, "home_notify_mode") == "mute"  # one choice keeps the other

    await bridge.text("+14155550123", URGENT)
    await eventually(lambda: len(slack.messages(BEN)) == 1)
    await bridge.idle()
    assert slack.messages(AGENT) == []
