"""Routing by topic, through the whole bridge (real Bolt, slack_sdk and twilio clients
against the emulators): a keyword rule sends a quote request to the sales channel and
round-robin assigns it, an intent rule sends a support question to support, `/sms
route` moves a conversation and later texts follow it, the header shows the team."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bridge.checks import run_checks
from bridge.config import BusinessConfig, load_settings
from bridge.routing_settings import Team
from bridge.sandbox.slack_emulator import SlackEmulator, SlackMessage
from bridge.sandbox.twilio_emulator import TwilioEmulator
from tests.support import (
    AGENT,
    INBOX,
    BridgeUnderTest,
    bridge_env,
    eventually,
    parents,
    slash,
)

SALES, SUPPORT = "C0SALES", "C0SUPPORT"
BEN, CARA, DAN, EVE = "U0BEN", "U0CARA", "U0DAN", "U0EVE"
ANA_PHONE, BEN_PHONE, CARA_PHONE = "+14155550123", "+14155550124", "+14155550125"
QUOTE = "how much is a quote for 20 cakes"


@pytest.fixture
def business_config() -> BusinessConfig:
    return BusinessConfig.model_validate(
        {
            "business": {"name": "Harbor Street Bakery"},
            "slack": {"undo_seconds": 0},
            "routing": {
                "teams": {
                    "sales": {"channel": SALES, "members": [AGENT, BEN], "assign": "round_robin"},
                    "support": {
                        "channel": SUPPORT,
                        "user_group": "S0SUPPORT",
                        "assign": "least_open",
                    },
                },
                "rules": [
                    {"match": {"keywords": ["price", "quote", "order"]}, "team": "sales"},
                    {"match": {"intent": ["support"]}, "team": "support"},
                ],
            },
        }
    )


@pytest.fixture(autouse=True)
def workspace(slack: SlackEmulator) -> None:
    for user, name in ((AGENT, "ana"), (BEN, "ben"), (CARA, "cara"), (DAN, "dan")):
        slack.add_user(user, name, name.title())
    slack.add_channel(SALES, "sales")
    slack.add_channel(SUPPORT, "support")
    slack.join(INBOX, AGENT, BEN, CARA, DAN)
    slack.join(SALES, AGENT, BEN)
    slack.join(SUPPORT, CARA, DAN)
    slack.user_groups["S0SUPPORT"] = [CARA, DAN]


def cards(slack: SlackEmulator, channel: str) -> list[SlackMessage]:
    return [m for m in slack.messages(channel) if m.text.startswith("SMS conversation")]


def card_of(slack: SlackEmulator, channel: str, digits: str) -> SlackMessage | None:
    return next((m for m in cards(slack, channel) if digits in m.text), None)


def texts(slack: SlackEmulator, channel: str, parent: SlackMessage) -> list[str]:
    return [m.text for m in slack.replies(channel, parent.ts)]


def shown(slack: SlackEmulator, channel: str, parent: SlackMessage) -> str:
    """The header card as it stands now (its blocks, updates included)."""
    current = slack.message(channel, parent.ts)
    assert current is not None
    return json.dumps(current.blocks)


async def test_a_quote_request_goes_to_sales_and_is_assigned_in_turn(
    bridge: BridgeUnderTest, slack: SlackEmulator
) -> None:
    await bridge.text(ANA_PHONE, QUOTE)
    await eventually(lambda: card_of(slack, SALES, "0123") is not None)
    parent = card_of(slack, SALES, "0123")
    assert parent is not None
    await eventually(lambda: QUOTE in texts(slack, SALES, parent))
    await eventually(
        lambda: any(
            "Routed to" in t and "sales" in t and "rule 1: keywords price, quote, order" in t
            for t in texts(slack, SALES, parent)
        )
    )
    await eventually(lambda: f"<@{AGENT}>" in shown(slack, SALES, parent))
    assert "sales" in shown(slack, SALES, parent)  # the header shows the team
    assert parents(slack) == []  # nothing in the inbox channel

    await bridge.text(BEN_PHONE, "what's the price of a baguette?")
    await eventually(lambda: card_of(slack, SALES, "0124") is not None)
    second = card_of(slack, SALES, "0124")
    assert second is not None
    await eventually(lambda: f"<@{BEN}>" in shown(slack, SALES, second))  # the next turn
    await eventually(
        lambda: any(c.args.get("channel") == BEN for c in slack.calls_to("chat.postMessage"))
    )  # the assignee hears of it (the existing DM)


async def test_only_members_active_now_take_turns_while_any_is(
    bridge: BridgeUnderTest, slack: SlackEmulator
) -> None:
    slack.away_users.add(AGENT)  # Slack says Ana is away (users.getPresence)
    for phone in (ANA_PHONE, BEN_PHONE):
        await bridge.text(phone, QUOTE)

    def bens() -> int:
        return sum(f"<@{BEN}>" in shown(slack, SALES, card) for card in cards(slack, SALES))

    await eventually(lambda: bens() == 2)


async def test_an_intent_rule_sends_a_support_question_to_support(
    bridge: BridgeUnderTest, slack: SlackEmulator
) -> None:
    await bridge.text(CARA_PHONE, "Is there parking near the shop?")
    await eventually(lambda: card_of(slack, SUPPORT, "0125") is not None)
    parent = card_of(slack, SUPPORT, "0125")
    assert parent is not None
    await eventually(
        lambda: any(
            "Routed to" in t and "intent support" in t for t in texts(slack, SUPPORT, parent)
        )
    )
    # least_open among the user group's members: both have none, the first listed gets it.
    await eventually(lambda: f"<@{CARA}>" in shown(slack, SUPPORT, parent))


async def test_sms_route_moves_a_conversation_and_later_texts_follow_it(
    bridge: BridgeUnderTest, slack: SlackEmulator
) -> None:
    await bridge.text(ANA_PHONE, QUOTE)
    await eventually(lambda: card_of(slack, SALES, "0123") is not None)
    old = card_of(slack, SALES, "0123")
    assert old is not None
    await eventually(lambda: any("Routed to" in t for t in texts(slack, SALES, old)))

    answer = await slash(bridge, slack, "route #1 support")
    assert answer.status == 200
    assert "Moving #1" in answer.text
    await eventually(lambda: card_of(slack, SUPPORT, "0123") is not None)
    new = card_of(slack, SUPPORT, "0123")
    assert new is not None
    old_link = f"/archives/{SALES}/p{old.ts.replace('.', '')}"
    new_link = f"/archives/{SUPPORT}/p{new.ts.replace('.', '')}"
    await eventually(lambda: any(old_link in t for t in texts(slack, SUPPORT, new)))
    await eventually(lambda: any(new_link in t for t in texts(slack, SALES, old)))
    await eventually(lambda: "support" in shown(slack, SUPPORT, new))

    await bridge.text(ANA_PHONE, "and can you write a name on it?")
    await eventually(lambda: "and can you write a name on it?" in texts(slack, SUPPORT, new))
    assert "and can you write a name on it?" not in texts(slack, SALES, old)

    again = await slash(bridge, slack, "route #1 support")
    assert "already" in again.text  # answered to the person only; nothing moves
    unknown = (await slash(bridge, slack, "route #1 helpdesk")).text
    assert "helpdesk" in unknown
    assert "`sales`" in unknown
    assert len(cards(slack, SUPPORT)) == 1


async def test_a_member_of_a_team_channel_replies_from_it_without_being_in_the_inbox(
    bridge: BridgeUnderTest, slack: SlackEmulator, twilio: TwilioEmulator
) -> None:
    slack.add_user(EVE, "eve", "Eve")
    slack.join(SALES, EVE)  # in #sales only, not in the inbox channel
    await bridge.text(ANA_PHONE, QUOTE)
    await eventually(lambda: card_of(slack, SALES, "0123") is not None)
    parent = card_of(slack, SALES, "0123")
    assert parent is not None
    await eventually(lambda: QUOTE in texts(slack, SALES, parent))
    event = slack.user_posts(SALES, EVE, "20 cakes are $180, Ana.", thread_ts=parent.ts)
    await slack.deliver(f"{bridge.url}/slack/events", slack.envelope(event))
    await eventually(lambda: [m.body for m in twilio.sent] == ["20 cakes are $180, Ana."])


async def test_check_names_a_team_channel_and_user_group_slack_does_not_know(
    slack: SlackEmulator,
    twilio: TwilioEmulator,
    tmp_path: Path,
    business_config: BusinessConfig,
    capsys: pytest.CaptureFixture[str],
) -> None:
    env = bridge_env(slack, twilio, tmp_path / "b.db")
    settings = load_settings(**{name.lower(): value for name, value in env.items()})
    await run_checks(settings, business_config)  # (Twilio's number is not set up here)
    fine = " ".join(capsys.readouterr().out.split())
    assert f"routing.teams.sales.channel {SALES} has the app in it" in fine
    assert "routing.teams.support.user_group S0SUPPORT exists" in fine

    slack.add_channel(SALES, "sales").app_is_member = False  # the app left it
    del slack.user_groups["S0SUPPORT"]
    routing = business_config.routing.model_copy(
        update={"teams": business_config.routing.teams | {"vip": Team(channel="C0NOWHERE")}}
    )
    problems = await run_checks(settings, business_config.model_copy(update={"routing": routing}))
    lines = " ".join(capsys.readouterr().out.split())
    assert f"routing.teams.sales.channel: invite the app to {SALES}" in lines
    assert "routing.teams.support.user_group: S0SUPPORT is not a user group" in lines
    assert "routing.teams.vip.channel: Slack cannot show the app C0NOWHERE" in lines
    assert problems >= 3
