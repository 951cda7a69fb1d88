"""A 429 with a long Retry-After, through the whole bridge: the limited method and
channel wait a short while, and everything else keeps moving meanwhile."""

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
    parents,
    slash,
    thread_texts,
)

ANA, BEA, CAL, DAN = "+14155550123", "+14155550124", "+14155550125", "+14155550126"
BEN = "U0BEN"


@pytest.fixture
def business_config() -> BusinessConfig:
    return BusinessConfig.model_validate({"slack": {"undo_seconds": 0}})


@pytest.fixture
def extra_env() -> dict[str, str]:
    # Few workers: a worker held up by one channel's limit is missed at once.
    return {"BRIDGE_WORKERS": "2"}


@pytest.fixture(autouse=True)
def team(slack: SlackEmulator) -> None:
    slack.add_user(AGENT, "ana", "Ana Ruiz", display_name="Ana")
    slack.add_user(BEN, "ben", "Ben Ode", display_name="Ben")
    slack.join(INBOX, AGENT, BEN)


def dm_sent(slack: SlackEmulator) -> bool:
    return any(
        c.args.get("channel") == BEN and not c.failed for c in slack.calls_to("chat.postMessage")
    )


async def test_a_90_second_retry_after_holds_one_channels_posts_briefly_and_nothing_else(
    bridge: BridgeUnderTest, slack: SlackEmulator, twilio: TwilioEmulator
) -> None:
    await open_thread(bridge, slack, ANA)
    bea = await open_thread(bridge, slack, BEA)
    reply, _ = await agent_replies(bridge, slack, bea, "On our way")
    await eventually(lambda: len(twilio.sent) == 1)

    slack.fail("chat.postMessage", status=429, retry_after=90)
    await bridge.text(ANA, "still there?")
    await eventually(lambda: any(c.status == 429 for c in slack.calls_to("chat.postMessage")))
    await bridge.text(CAL, "hi")  # new conversations: their cards wait for the inbox too
    await bridge.text(DAN, "hi")

    # Other methods in the inbox channel, and posts to other channels, keep going.
    await twilio.send_status(twilio.sent[0].sid, "delivered")  # a reaction on the reply
    await slash(bridge, slack, f"assign {BEA} <@{BEN}|ben>")  # the card's update, a DM
    reply_ts = reply["event"]["ts"]
    await eventually(lambda: DELIVERED in slack.message(INBOX, reply_ts).reactions)
    await eventually(lambda: f"<@{BEN}>" in json.dumps(slack.message(INBOX, bea).blocks))
    await eventually(lambda: dm_sent(slack))
    assert "still there?" not in thread_texts(slack, "415-555-0123")

    # The inbox channel resumes after the cap, not after Retry-After's 90 s.
    await eventually(
        lambda: thread_texts(slack, "415-555-0123") == ["Hello?", "still there?"], within=20
    )
    await eventually(lambda: len(parents(slack)) == 4)
