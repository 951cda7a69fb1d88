"""An escalation to a team (`notifications.sla.escalate.route`): a text nobody answered
in time moves to the team's channel once, and later texts follow it there."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bridge.config import BusinessConfig
from bridge.sandbox.demo_clock import DemoClock, WeekTime, on_clock
from bridge.sandbox.slack_emulator import SlackEmulator
from bridge.store.base import Store
from bridge.store.sqlite import SQLiteStore
from tests.integration.test_sla_timer import ANA, CONFIG, ON_CALL, Later, later, team
from tests.support import AGENT, BridgeUnderTest, eventually, open_thread, thread_texts

__all__ = ["later", "team"]  # the timer's fixtures, shared

LEADS = "C0LEADS"


@pytest.fixture
def business_config(slack: SlackEmulator) -> BusinessConfig:
    slack.add_channel(LEADS, "leads")
    slack.join(LEADS, slack.bot_user_id, AGENT)
    routing = {"teams": {"leads": {"channel": LEADS, "members": [AGENT]}}}
    sla = {"first_response_minutes": 15, "escalate": {"notify": ["on_call"], "route": "leads"}}
    notifications = {"on_call": ON_CALL, "sla": sla}
    config = BusinessConfig.model_validate(
        CONFIG | {"routing": routing, "notifications": notifications}
    )
    clock = DemoClock()
    clock.move_to(WeekTime.parse("wed 10:00"), config.business)
    return config.model_copy(update={"business": on_clock(config.business, clock)})


@pytest.fixture
def bridge_store(db_path: Path) -> Store:
    return SQLiteStore(db_path)


async def test_an_escalation_to_a_team_moves_the_thread_to_its_channel_once(
    bridge: BridgeUnderTest, slack: SlackEmulator, later: Later
) -> None:
    await open_thread(bridge, slack, ANA)
    later.ahead = timedelta(minutes=16)

    def moved_note() -> list[str]:
        return [t for t in thread_texts(slack, "0123") if "first-response timer" in t]

    def in_leads() -> list[str]:
        return [m.text for p in slack.messages(LEADS) for m in slack.replies(LEADS, p.ts)]

    await eventually(lambda: len(moved_note()) == 1, within=20)
    await bridge.idle()
    assert len(slack.messages(LEADS)) == 1  # one new parent, however often the check ran
    await bridge.text(ANA, "Hello?")
    await eventually(lambda: any("Hello?" in text for text in in_leads()), within=20)
    assert len(moved_note()) == 1
