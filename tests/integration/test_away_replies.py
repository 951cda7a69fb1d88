"""The off-hours away reply and `/sms away`, through the real bridge app, slack_sdk and
twilio clients against the emulators. The business's clock is frozen at a day and
hour of its week (the demo's clock), so "closed" does not depend on when tests run."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bridge.config import BusinessConfig
from bridge.sandbox.demo_clock import DemoClock, WeekTime, on_clock
from bridge.sandbox.slack_emulator import SlackEmulator
from bridge.sandbox.twilio_emulator import TwilioEmulator
from tests.support import (
    AGENT,
    INBOX,
    BridgeUnderTest,
    eventually,
    open_thread,
    parents,
    slash,
    thread_texts,
)

ANA = "+14155550123"
BEN = "+14155550124"
AWAY_REPLY = "{business_name}: we are closed. We open {next_open} and reply by {response_time}."
CONFIG: dict[str, Any] = {
    "business": {
        "name": "Harbor Street Bakery",
        "timezone": "America/Los_Angeles",
        "hours": {"mon-fri": "07:00-18:00"},
    },
    "hours": {"away_reply": AWAY_REPLY},
    "slack": {"undo_seconds": 0},
}


def frozen(at: str, *, holiday: bool = False, **sections: Any) -> BusinessConfig:
    """The config (with `sections` added) and the business's clock at `at` ("fri 20:00");
    `holiday`: that day is one of its holidays."""
    config = BusinessConfig.model_validate(CONFIG | sections)
    clock = DemoClock()
    clock.move_to(WeekTime.parse(at), config.business)
    business = config.business
    if holiday:
        today = clock.now().astimezone(ZoneInfo(business.timezone)).date().isoformat()
        business = business.model_copy(update={"holidays": [today]})
    return config.model_copy(update={"business": on_clock(business, clock)})


@pytest.fixture
def business_config(request: pytest.FixtureRequest) -> BusinessConfig:
    return frozen(**getattr(request, "param", {"at": "fri 20:00"}))


@pytest.fixture(autouse=True)
def team(twilio: TwilioEmulator, slack: SlackEmulator) -> None:
    twilio.keyword_opt_out = False  # the bridge's behaviour alone, not Twilio's block list
    slack.add_user(AGENT, "ana", "Ana Ruiz", display_name="Ana")
    slack.join(INBOX, AGENT)


def bodies(twilio: TwilioEmulator) -> list[str]:
    return [m.body for m in twilio.sent]


async def test_one_away_reply_per_closed_period_with_the_next_opening(
    bridge: BridgeUnderTest, slack: SlackEmulator, twilio: TwilioEmulator
) -> None:
    await bridge.text(ANA, "Do you have rye bread tomorrow?")
    await bridge.text(ANA, "Or sourdough?")  # the same night: no second reply
    await bridge.idle()
    assert bodies(twilio) == [
        "Harbor Street Bakery: we are closed. We open Monday at 7:00 and reply by Monday at 9:00."
    ]
    assert twilio.sent[0].to == ANA
    await eventually(lambda: any("away reply" in t for t in thread_texts(slack, "0123")))
    header = str(parents(slack)[0].blocks)
    assert "Closed · opens Monday at 7:00" in header


@pytest.mark.parametrize("business_config", [{"at": "tue 10:30"}], indirect=True)
async def test_no_away_reply_inside_hours(
    bridge: BridgeUnderTest, slack: SlackEmulator, twilio: TwilioEmulator
) -> None:
    await open_thread(bridge, slack, ANA)
    await bridge.idle()
    assert bodies(twilio) == []
    assert "Open until today at 18:00" in str(parents(slack)[0].blocks)


@pytest.mark.parametrize("business_config", [{"at": "tue 10:30", "holiday": True}], indirect=True)
async def test_a_configured_holiday_is_closed_until_the_next_day(
    bridge: BridgeUnderTest, twilio: TwilioEmulator
) -> None:
    await bridge.text(ANA, "Are you open today?")
    await bridge.idle()
    assert bodies(twilio) == [
        "Harbor Street Bakery: we are closed. We open tomorrow at 7:00 and reply by"
        " tomorrow at 9:00."
    ]


async def test_no_away_reply_to_stop_or_to_an_opted_out_number(
    bridge: BridgeUnderTest, slack: SlackEmulator, twilio: TwilioEmulator
) -> None:
    await bridge.text(ANA, "STOP")  # Twilio confirms STOP itself: the bridge sends nothing
    await eventually(lambda: any("Opted out" in t for t in thread_texts(slack, "0123")))
    await bridge.text(ANA, "ok one more question")
    await bridge.idle()
    assert bodies(twilio) == []


async def test_help_gets_its_answer_and_no_away_reply(
    bridge: BridgeUnderTest, twilio: TwilioEmulator
) -> None:
    await bridge.text(ANA, "HELP")
    await bridge.idle()
    [help_reply] = bodies(twilio)
    assert "Reply STOP to opt out" in help_reply


ASSISTANT_ON = {"auto_reply": {"enabled": True, "min_confidence": 0}}


@pytest.mark.parametrize(
    "business_config", [{"at": "fri 20:00", "ai": ASSISTANT_ON}], indirect=True
)
async def test_no_away_reply_when_the_assistant_answered(
    bridge: BridgeUnderTest, twilio: TwilioEmulator
) -> None:
    await bridge.text(ANA, "What are your opening hours?")
    await bridge.idle()
    assert len(bodies(twilio)) == 1
    assert "we are closed" not in bodies(twilio)[0]  # the assistant's answer, not ours


async def test_sms_away_on_and_off(
    bridge: BridgeUnderTest, slack: SlackEmulator, twilio: TwilioEmulator
) -> None:
    on = await slash(bridge, slack, "away on")
    assert "Away is on" in on.text
    assert "until `/sms away off`" in on.text
    await bridge.text(ANA, "Hello?")
    await eventually(lambda: len(twilio.sent) == 1)
    assert bodies(twilio)[0].startswith("Harbor Street Bakery is closed for now.")

    status = await slash(bridge, slack, "away")
    assert status.text.startswith("Away · until")
    off = await slash(bridge, slack, "away off")
    assert off.text.startswith("Away is off. Closed · opens Monday at 7:00")

    until = await slash(bridge, slack, "away on until mon 12:00")
    assert "opens Monday at 12:00" in until.text
    await bridge.text(BEN, "Are you there?")
    await eventually(lambda: len(twilio.sent) == 2)
    assert "We open Monday at 12:00 and reply by Monday at 14:00" in bodies(twilio)[1]

    unclear = await slash(bridge, slack, "away on until someday")
    assert "is not a time I can read" in unclear.text
