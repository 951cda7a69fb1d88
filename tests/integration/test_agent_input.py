"""What agents type is bounded, escaped and checked before anything is stored or sent:
placeholders without format tricks, reasons of a sane size, mentions named after the
acknowledgement, numbers and people that exist."""

from __future__ import annotations

import json
from pathlib import Path

import aiohttp
import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bridge.config import BusinessConfig, ConfigError, load_business_config
from bridge.delivery.errors import GiveUp, RetryLater
from bridge.metrics import Metrics
from bridge.sandbox.slack_emulator import SlackEmulator
from bridge.sandbox.twilio_emulator import TwilioEmulator
from bridge.slack.gateway import SlackGateway, slack_rates
from tests.support import (
    AGENT,
    INBOX,
    BridgeUnderTest,
    agent_replies,
    eventually,
    open_thread,
    slash,
    thread_texts,
)

ANA = "+14155550123"
# More than Slack's Tier-4 burst (10 users.info) and its pace allow in the second the
# bridge gives names before it acknowledges.
COLLEAGUES = [f"U0C{n:03d}" for n in range(24)]


@pytest.fixture
def business_config() -> BusinessConfig:
    return BusinessConfig.model_validate({"slack": {"undo_seconds": 0}})


@pytest.fixture(autouse=True)
def team(slack: SlackEmulator) -> None:
    slack.add_user(AGENT, "ana", "Ana Ruiz", display_name="Ana")
    for user in COLLEAGUES:
        slack.add_user(user, user.lower(), f"Colleague {user[3:]}")
    slack.join(INBOX, AGENT, *COLLEAGUES)


@pytest.mark.parametrize(
    "template",
    ["Hi {phone:>50000000}", "Hi {name!r}", "Hi {0}", "Hi {}", "Hi {name.upper}", "Hi {x[0]}"],
)
async def test_a_canned_text_takes_plain_placeholders_only(
    bridge: BridgeUnderTest, slack: SlackEmulator, template: str
) -> None:
    answer = await slash(bridge, slack, f"canned add big {template}")
    assert "placeholder" in answer.text
    assert "`big`" not in (await slash(bridge, slack, "canned list")).text


def test_a_configured_canned_text_with_a_format_spec_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "bridge.yml"
    config.write_text("canned:\n  big: 'Hi {phone:>50000000}'\n")
    with pytest.raises(ConfigError, match=r"canned\.big"):
        load_business_config(config)


async def test_texts_agents_type_are_bounded(bridge: BridgeUnderTest, slack: SlackEmulator) -> None:
    thread = await open_thread(bridge, slack, ANA)
    answer = await slash(bridge, slack, "flag #1 " + "x" * 100_000)
    assert "at most" in answer.text
    answer = await slash(bridge, slack, "canned add long " + "y" * 5000)
    assert "at most" in answer.text
    answer = await slash(bridge, slack, "contact #1 name=" + "z" * 5000)
    assert "at most" in answer.text
    # Through the dialog (Slack keeps its field at 500; a forged submission may not).
    shortcut = slack.message_shortcut(AGENT, INBOX, thread, "sms_actions")
    await slack.deliver(f"{bridge.url}/slack/events", shortcut, kind="interactive")
    await eventually(lambda: AGENT in slack.modals)
    submission = slack.view_submission(
        AGENT,
        {
            "status": {"status": {"selected_option": {"value": "flag"}}},
            "reason": {"reason": "r" * 100_000},
        },
    )
    await slack.deliver(f"{bridge.url}/slack/events", submission, kind="interactive")
    await eventually(lambda: any(t.startswith("Flagged by") for t in thread_texts(slack, "0123")))
    [note] = [t for t in thread_texts(slack, "0123") if t.startswith("Flagged by")]
    assert len(note) < 1000


async def test_a_reply_mentioning_many_people_is_acknowledged_at_once(
    bridge: BridgeUnderTest, slack: SlackEmulator, twilio: TwilioEmulator
) -> None:
    thread = await open_thread(bridge, slack, ANA)
    text = "Thanks to " + " ".join(f"<@{user}>" for user in COLLEAGUES)
    _, answer = await agent_replies(bridge, slack, thread, text)
    assert answer.status == 200
    # Acknowledged before every name was asked for (Slack retries a delivery not acked
    # in 3 s): the paced users.info calls go on after the answer.
    assert len(slack.calls_to("users.info")) < len(COLLEAGUES)
    await eventually(lambda: len(twilio.sent) == 1, within=90)
    body = twilio.sent[0].body
    assert "@Colleague 000" in body
    assert "@Colleague 023" in body
    assert "\ue000" not in body


async def test_an_agents_text_echoed_in_slack_mentions_and_links_nothing(
    bridge: BridgeUnderTest, slack: SlackEmulator
) -> None:
    await open_thread(bridge, slack, ANA)
    # As markup, and typed as characters (which Slack sends escaped).
    reason = "<!channel> <@U0C001> <https://evil.example|click> &lt;!here&gt;"
    await slash(bridge, slack, f"flag #1 {reason}")
    await eventually(lambda: any(t.startswith("Flagged by") for t in thread_texts(slack, "0123")))
    [note] = [t for t in thread_texts(slack, "0123") if t.startswith("Flagged by")]
    assert "<!channel>" not in note
    assert "<https://evil.example" not in note
    assert "<@U0C001>" not in note
    assert "<!here>" not in note
    header = slack.message(INBOX, slack.messages(INBOX)[0].ts)
    assert header is not None
    assert "<!channel>" not in json.dumps(header.blocks)


@pytest.mark.parametrize("number", ["911", "12345", "+1 555 0100", "1-800-FLOWERS"])
async def test_send_refuses_what_is_not_a_subscribers_number(
    bridge: BridgeUnderTest, slack: SlackEmulator, twilio: TwilioEmulator, number: str
) -> None:
    answer = await slash(bridge, slack, f"send {number} hello")
    assert "not a phone number" in answer.text
    assert twilio.sent == []
    assert slack.messages(INBOX) == []


async def test_assigning_someone_who_is_not_in_the_inbox_is_refused(
    bridge: BridgeUnderTest, slack: SlackEmulator
) -> None:
    await open_thread(bridge, slack, ANA)
    for user in ("U0NOBODY", "U0C999"):
        answer = await slash(bridge, slack, f"assign #1 <@{user}>")
        assert "can't be assigned" in answer.text
    await bridge.idle()
    assert not any(c.args.get("channel") == "U0NOBODY" for c in slack.calls_to("chat.postMessage"))
    assert "Assigned" not in " ".join(thread_texts(slack, "0123"))


async def test_a_failed_dm_says_what_failed(slack: SlackEmulator) -> None:
    async with aiohttp.ClientSession() as session:
        client = AsyncWebClient(
            token=slack.token, base_url=f"{slack.base_url}/api/", session=session
        )
        gateway = SlackGateway(client, slack_rates(100, 10), Metrics(), inbox_channel=INBOX)
        with pytest.raises(GiveUp, match="no person U0NOBODY"):
            await gateway.post_message("U0NOBODY", "You were assigned #1")
        with pytest.raises(RetryLater, match="the app cannot see channel C0GONE") as gone:
            await gateway.post_message("C0GONE", "hello")
        assert "SLACK_INBOX_CHANNEL" not in str(gone.value)
