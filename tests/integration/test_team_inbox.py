"""The team inbox inside Slack: /sms commands, reactions, header buttons, App Home,
canned responses — real Bolt, slack_sdk and twilio clients against the emulators."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from bridge.config import BusinessConfig
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

ANA, BEN = "+14155550123", "+14155550124"
BOSS, OUTSIDER = "U0BEN", "U0OUT"


@pytest.fixture
def business_config() -> BusinessConfig:
    return BusinessConfig.model_validate(
        {
            "business": {"name": "Harbor Street Bakery"},
            "slack": {"undo_seconds": 0},
            "canned": {
                "greet": "Hi {first_name}, thanks for texting {business_name}!",
                "order": "Your order {order_id} is ready.",
            },
        }
    )


@pytest.fixture(autouse=True)
def team(slack: SlackEmulator) -> None:
    slack.add_user(AGENT, "ana", "Ana Ruiz", display_name="Ana")
    slack.add_user(BOSS, "ben", "Ben Ode", display_name="Ben")
    slack.add_user(OUTSIDER, "olly", "Olly Out")
    slack.join(INBOX, AGENT, BOSS)


def taken(slack: SlackEmulator) -> list[str]:
    """The thread's notes of someone taking the conversation (assigned to themselves)."""
    return [t for t in thread_texts(slack, "0123") if AGENT in t and ("ssign" in t or "took" in t)]


def header_text(slack: SlackEmulator, thread: str) -> str:
    message = slack.message(INBOX, thread)
    assert message is not None
    return json.dumps(message.blocks)


def updates_of(slack: SlackEmulator, thread: str) -> list[Any]:
    return [c for c in slack.calls_to("chat.update") if c.args.get("ts") == thread]


async def test_resolve_and_assign_by_command_update_the_card_and_the_store(
    bridge: BridgeUnderTest, slack: SlackEmulator
) -> None:
    thread = await open_thread(bridge, slack, ANA)
    answer = await slash(bridge, slack, "resolve (415) 555-0123")
    assert answer.status == 200
    assert "Resolved #1" in answer.text
    await eventually(lambda: "Resolved" in header_text(slack, thread))
    await eventually(lambda: any("Resolved by" in t for t in thread_texts(slack, "0123")))

    assert "Assigned #1" in (await slash(bridge, slack, f"assign #1 <@{BOSS}|ben>")).text
    await eventually(lambda: f"<@{BOSS}>" in header_text(slack, thread))
    await eventually(
        lambda: any(c.args.get("channel") == BOSS for c in slack.calls_to("chat.postMessage"))
    )
    # A new text reopens it and says so in the channel, once.
    await bridge.text(ANA, "one more thing")
    await eventually(lambda: "Open" in header_text(slack, thread))
    await eventually(
        lambda: any(c.args.get("reply_broadcast") for c in slack.calls_to("chat.postMessage"))
    )


async def test_reactions_resolve_and_assign_and_undo(
    bridge: BridgeUnderTest, slack: SlackEmulator
) -> None:
    thread = await open_thread(bridge, slack, ANA)
    url = f"{bridge.url}/slack/events"
    [customer_text] = slack.replies(INBOX, thread)
    await slack.deliver(url, slack.user_reacts(INBOX, customer_text.ts, BOSS, "raising_hand"))
    await eventually(lambda: f"<@{BOSS}>" in header_text(slack, thread))
    await slack.deliver(url, slack.user_reacts(INBOX, thread, AGENT, "white_check_mark"))
    await eventually(lambda: "Resolved" in header_text(slack, thread))
    removed = {
        "type": "reaction_removed",
        "user": AGENT,
        "reaction": "white_check_mark",
        "item": {"type": "message", "channel": INBOX, "ts": thread},
    }
    await slack.deliver(url, removed)
    await eventually(lambda: "Resolved" not in header_text(slack, thread))
    # The bridge's own ✅ (a delivery mark) never resolves anything.
    own = slack.user_reacts(INBOX, thread, slack.bot_user_id, "white_check_mark")
    await slack.deliver(url, own)
    await asyncio.sleep(0.3)
    assert "Resolved" not in header_text(slack, thread)


async def test_header_buttons(bridge: BridgeUnderTest, slack: SlackEmulator) -> None:
    thread = await open_thread(bridge, slack, ANA)
    url = f"{bridge.url}/slack/events"
    await slack.deliver(
        url,
        slack.block_action(AGENT, "header_assign_me", "1", channel=INBOX, message_ts=thread),
        kind="interactive",
    )
    await eventually(lambda: f"<@{AGENT}>" in header_text(slack, thread))
    await slack.deliver(
        url,
        slack.block_action(AGENT, "header_flag", "1", channel=INBOX, message_ts=thread),
        kind="interactive",
    )
    await eventually(lambda: "Flagged" in header_text(slack, thread))
    assert "header_unflag" in header_text(slack, thread)


async def test_canned_responses_are_personalised_and_guarded(
    bridge: BridgeUnderTest, slack: SlackEmulator, twilio: TwilioEmulator
) -> None:
    await open_thread(bridge, slack, ANA)
    missing = await slash(bridge, slack, "canned greet +1 415 555 0123")
    assert "needs `{first_name}`" in missing.text
    assert twilio.sent == []
    await slash(bridge, slack, 'contact #1 name="Ana Ruiz" order_id=A-17')
    answer = await slash(bridge, slack, "canned greet +1 415 555 0123")
    assert "Sending `greet`" in answer.text
    await eventually(lambda: len(twilio.sent) == 1)
    assert twilio.sent[0].body == "Hi Ana, thanks for texting Harbor Street Bakery!"
    await asyncio.sleep(0.3)
    assert len(twilio.sent) == 1
    await eventually(lambda: any("canned “greet”" in t for t in thread_texts(slack, "0123")))

    await bridge.text(ANA, "STOP")
    await eventually(lambda: any("Opted out" in t for t in thread_texts(slack, "0123")))
    refused = await slash(bridge, slack, "canned order #1")
    assert "opted out" in refused.text
    await asyncio.sleep(0.3)
    assert len(twilio.sent) == 1


async def test_canned_management_and_admins(bridge: BridgeUnderTest, slack: SlackEmulator) -> None:
    assert "Saved `thanks`" in (await slash(bridge, slack, "canned add thanks Thank you!")).text
    listed = (await slash(bridge, slack, "canned list")).text
    assert "`greet`" in listed
    assert "`thanks`: Thank you!" in listed
    assert "Removed `thanks`" in (await slash(bridge, slack, "canned remove thanks")).text


async def test_usage_and_help_are_escaped_and_name_every_command(
    bridge: BridgeUnderTest, slack: SlackEmulator
) -> None:
    mistyped = (await slash(bridge, slack, "resolve <!channel>")).text
    assert "<!channel>" not in mistyped
    assert "&lt;!channel&gt;" in mistyped
    assert "<target>" not in mistyped
    helped = (await slash(bridge, slack, "help")).text
    assert "`/sms resolve &lt;target&gt;`" in helped
    assert "`/sms kb reload`" in helped


async def test_usage_pickers_and_outsiders(bridge: BridgeUnderTest, slack: SlackEmulator) -> None:
    await open_thread(bridge, slack, ANA)
    unknown = await slash(bridge, slack, "frobnicate #1")
    assert "There is no `/sms frobnicate`" in unknown.text
    assert "Usage:" in unknown.text
    picker = json.loads((await slash(bridge, slack, "resolve")).text)
    assert "Which conversation?" in picker["text"]
    buttons = next(b for b in picker["blocks"] if b["type"] == "actions")["elements"]
    assert buttons[0]["text"]["text"].startswith("#1 ")
    outsider = await slash(bridge, slack, "resolve #1", user=OUTSIDER)
    assert "Only members" in outsider.text
    assert "Resolved" not in header_text(slack, parents(slack)[0].ts)
    assert len(parents(slack)) == 1


async def test_app_home_lists_by_recency_and_filters(
    bridge: BridgeUnderTest, slack: SlackEmulator
) -> None:
    await open_thread(bridge, slack, ANA)
    await open_thread(bridge, slack, BEN)
    url = f"{bridge.url}/slack/events"
    await slack.deliver(
        url,
        {
            "type": "app_home_opened",
            "user": AGENT,
            "tab": "home",
            "channel": "D0ANA",
            "event_ts": "1.0",
        },
    )
    await eventually(lambda: AGENT in slack.home_views)

    def rows() -> list[str]:
        blocks = slack.home_views[AGENT]["blocks"]
        return [
            b["text"]["text"] for b in blocks if b["type"] == "section" and "#" in b["text"]["text"]
        ]

    await eventually(lambda: len(rows()) == 2)
    assert rows()[0].startswith(":large_blue_circle: *#2*")  # Ben texted last
    await slash(bridge, slack, f"assign #1 <@{AGENT}>")
    choose = slack.block_action(AGENT, "home_filter", "", channel=INBOX)
    choose["view"] = {"type": "home"}
    choose["actions"] = [
        {
            "type": "static_select",
            "action_id": "home_filter",
            "selected_option": {"value": "mine"},
            "block_id": "home_filters",
        }
    ]
    await slack.deliver(url, choose, kind="interactive")
    await eventually(lambda: len(rows()) == 1 and "#1" in rows()[0])
    await slash(bridge, slack, "resolve #1")
    await eventually(
        lambda: rows() == [] or "Nothing here" in json.dumps(slack.home_views[AGENT]["blocks"])
    )


async def test_the_sms_actions_shortcut_previews_and_applies(
    bridge: BridgeUnderTest, slack: SlackEmulator, twilio: TwilioEmulator
) -> None:
    thread = await open_thread(bridge, slack, ANA)
    url = f"{bridge.url}/slack/events"
    [customer_text] = slack.replies(INBOX, thread)
    shortcut = slack.message_shortcut(AGENT, INBOX, customer_text.ts, "sms_actions")
    assert (await slack.deliver(url, shortcut, kind="interactive")).status == 200
    await eventually(lambda: AGENT in slack.modals)
    assert "greet" in json.dumps(slack.modals[AGENT])

    pick = {
        "type": "static_select",
        "action_id": "canned_pick",
        "block_id": "canned",
        "selected_option": {"value": "greet"},
    }
    await slack.deliver(url, slack.modal_action(AGENT, pick), kind="interactive")
    await eventually(lambda: "needs `{first_name}`" in json.dumps(slack.modals[AGENT]))
    refused = await slack.deliver(
        url,
        slack.view_submission(
            AGENT, {"canned": {"canned_pick": {"selected_option": {"value": "greet"}}}}
        ),
        kind="interactive",
    )
    assert "needs" in refused.text

    await slash(bridge, slack, 'contact #1 name="Ana Ruiz"')
    slack.modals[AGENT] = {
        "id": "V1",
        "callback_id": "sms_actions_modal",
        "private_metadata": "1",
        "type": "modal",
    }
    submit = slack.view_submission(
        AGENT,
        {
            "assign": {"user": {"type": "users_select", "selected_user": BOSS}},
            "status": {"status": {"selected_option": {"value": "resolve"}}},
            "canned": {"canned_pick": {"selected_option": {"value": "greet"}}},
        },
    )
    assert (await slack.deliver(url, submit, kind="interactive")).status == 200
    await eventually(lambda: "Resolved" in header_text(slack, thread))
    assert f"<@{BOSS}>" in header_text(slack, thread)
    await eventually(
        lambda: (
            [m.body for m in twilio.sent] == ["Hi Ana, thanks for texting Harbor Street Bakery!"]
        )
    )


@pytest.mark.parametrize(
    "business_config",
    [BusinessConfig.model_validate({"slack": {"user_group": "S0NIGHT", "admins": [BOSS]}})],
)
async def test_a_user_group_may_act_and_admin_actions_are_limited(
    bridge: BridgeUnderTest, slack: SlackEmulator
) -> None:
    slack.user_groups["S0NIGHT"] = [OUTSIDER]
    await open_thread(bridge, slack, ANA)
    assert "Resolved #1" in (await slash(bridge, slack, "resolve #1", user=OUTSIDER)).text
    refused = await slash(bridge, slack, "canned add hi Hello", user=AGENT)
    assert "Only admins" in refused.text
    assert "Saved" in (await slash(bridge, slack, "canned add hi Hello", user=BOSS)).text


@pytest.mark.parametrize(
    "business_config",
    [
        BusinessConfig.model_validate(
            {"canned": {"hi": "Hello!"}, "slack": {"reactions": {"wave": "canned:hi"}}}
        )
    ],
)
async def test_a_redelivered_reaction_sends_its_canned_response_once(
    bridge: BridgeUnderTest, slack: SlackEmulator, twilio: TwilioEmulator
) -> None:
    thread = await open_thread(bridge, slack, ANA)
    envelope = slack.envelope(slack.user_reacts(INBOX, thread, AGENT, "wave"))
    url = f"{bridge.url}/slack/events"
    await slack.deliver(url, envelope)
    await slack.deliver(url, envelope, retry_num=1)
    await eventually(lambda: [m.body for m in twilio.sent] == ["Hello!"])
    await asyncio.sleep(0.3)
    assert len(twilio.sent) == 1


async def test_the_app_home_is_for_inbox_members_only(
    bridge: BridgeUnderTest, slack: SlackEmulator
) -> None:
    await open_thread(bridge, slack, ANA)
    opened = {"type": "app_home_opened", "user": OUTSIDER, "tab": "home", "event_ts": "1.0"}
    await slack.deliver(f"{bridge.url}/slack/events", opened)
    member = {"type": "app_home_opened", "user": AGENT, "tab": "home", "event_ts": "2.0"}
    await slack.deliver(f"{bridge.url}/slack/events", member)
    await eventually(lambda: AGENT in slack.home_views)  # members get their inbox …
    assert OUTSIDER not in slack.home_views  # … outsiders get no inbox data at all


async def test_a_conversation_picked_from_the_picker_is_acted_on(
    bridge: BridgeUnderTest, slack: SlackEmulator
) -> None:
    thread = await open_thread(bridge, slack, ANA)
    picker = json.loads((await slash(bridge, slack, "resolve")).text)
    [button] = next(b for b in picker["blocks"] if b["type"] == "actions")["elements"]
    click = slack.block_action(AGENT, button["action_id"], button["value"], channel=INBOX)
    assert (
        await slack.deliver(f"{bridge.url}/slack/events", click, kind="interactive")
    ).status == 200
    await eventually(lambda: "Resolved" in header_text(slack, thread))
    await eventually(lambda: any("Resolved #1" in json.dumps(r) for r in slack.responses))
    # A value that is not what a picker offers (a send, say) runs nothing.
    forged = json.dumps({"action": "send", "target": {"phone": ANA}, "text": "hi"})
    click = slack.block_action(AGENT, "sms_pick_1", forged, channel=INBOX)
    await slack.deliver(f"{bridge.url}/slack/events", click, kind="interactive")
    await eventually(lambda: any("expired" in json.dumps(r) for r in slack.responses))


async def test_the_card_and_the_notes_say_who_and_what(
    bridge: BridgeUnderTest, slack: SlackEmulator
) -> None:
    thread = await open_thread(bridge, slack, ANA)
    await slash(bridge, slack, 'contact #1 name="Ana Ruiz"')
    await slash(bridge, slack, "resolve #1")
    await slash(bridge, slack, "flag #1 wants a callback")
    await eventually(lambda: "wants a callback" in header_text(slack, thread))
    card = header_text(slack, thread)
    assert "Resolved" in card
    assert "Flagged" in card
    # Taking a conversation is said once, not "Assigned to @Ana by @Ana".
    await slash(bridge, slack, f"assign #1 <@{AGENT}>")
    await eventually(lambda: bool(taken(slack)))
    [note] = taken(slack)
    assert note.count(f"<@{AGENT}>") == 1
    # The new assignee's DM names the customer.
    await slash(bridge, slack, f"assign #1 <@{BOSS}>")
    await eventually(
        lambda: any(c.args.get("channel") == BOSS for c in slack.calls_to("chat.postMessage"))
    )
    [dm] = [c for c in slack.calls_to("chat.postMessage") if c.args.get("channel") == BOSS]
    assert "Ana Ruiz" in str(dm.args["text"])


async def test_a_customers_text_is_posted_in_their_name(
    bridge: BridgeUnderTest, slack: SlackEmulator
) -> None:
    thread = await open_thread(bridge, slack, ANA)
    [first] = slack.replies(INBOX, thread)
    assert first.username == "+1 415-555-0123"
    await slash(bridge, slack, 'contact #1 name="Ana Ruiz"')
    await bridge.text(ANA, "it's Ana")
    await eventually(lambda: len(slack.replies(INBOX, thread)) >= 2)
    second = next(m for m in slack.replies(INBOX, thread) if m.text == "it's Ana")
    assert second.username == "Ana Ruiz"
    assert second.icon_emoji
