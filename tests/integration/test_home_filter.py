"""The App Home's filter shows the filter in use (Block Kit `initial_option`), so a
reader always sees which conversations the list holds, in real Slack and in the demo."""

from __future__ import annotations

from typing import Any

import pytest

from bridge.sandbox.slack_emulator import SlackEmulator
from tests.support import AGENT, INBOX, BridgeUnderTest, eventually


@pytest.fixture(autouse=True)
def team(slack: SlackEmulator) -> None:
    slack.add_user(AGENT, "ana", "Ana Ruiz")
    slack.join(INBOX, AGENT)


def shown_filter(slack: SlackEmulator) -> Any:
    view = slack.home_views.get(AGENT)
    if view is None:
        return None
    [select] = [
        element
        for block in view["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
        if element["type"] == "static_select"
    ]
    return (select.get("initial_option") or {}).get("value")


async def test_the_home_filter_shows_the_chosen_filter(
    bridge: BridgeUnderTest, slack: SlackEmulator
) -> None:
    url = f"{bridge.url}/slack/events"
    opened = {"type": "app_home_opened", "user": AGENT, "tab": "home", "event_ts": "1.0"}
    await slack.deliver(url, opened)
    await eventually(lambda: shown_filter(slack) == "open")

    choose = slack.block_action(AGENT, "home_filter", "", channel=INBOX)
    choose["view"] = slack.home_views[AGENT]
    choose["actions"] = [
        {
            "type": "static_select",
            "action_id": "home_filter",
            "block_id": "home_filters",
            "selected_option": {"text": {"type": "plain_text", "text": "Mine"}, "value": "mine"},
        }
    ]
    await slack.deliver(url, choose, kind="interactive")
    await eventually(lambda: shown_filter(slack) == "mine")
