"""One rule for every path that can act or send: a member of the inbox, of this
workspace, acting on an object of the conversation the action came from. Forged and
malformed payloads are signed here as Slack would sign them: the bridge must not trust
what is inside them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bridge.config import BusinessConfig
from bridge.sandbox.slack_emulator import Ephemeral, SlackEmulator
from bridge.sandbox.twilio_emulator import TwilioEmulator
from bridge.store.base import Store
from bridge.store.sqlite import SQLiteStore
from tests.support import (
    AGENT,
    BUSINESS,
    INBOX,
    PUBLIC_URL,
    BridgeUnderTest,
    agent_replies,
    eventually,
    open_thread,
    thread_texts,
)

ANA, BEN = "+14155550123", "+14155550124"
OUTSIDER = "U0OUT"  # in the workspace, not in the inbox
GUEST = "U0GUEST"  # in the inbox channel, from another organisation (Slack Connect)
PROMO = "Your cake is ready! Use promo code SWEET for 20% off"


@pytest.fixture
def business_config() -> BusinessConfig:
    return BusinessConfig.model_validate(
        {
            "slack": {"undo_seconds": 0},
            "knowledge": {"faq": [{"q": "What are your opening hours?", "a": "9-5, Mon-Fri."}]},
        }
    )


@pytest.fixture
def bridge_store(db_path: Path) -> Store:
    return SQLiteStore(db_path)


@pytest.fixture
def store(bridge_store: Store) -> Store:
    return bridge_store


@pytest.fixture(autouse=True)
def people(slack: SlackEmulator, twilio: TwilioEmulator) -> None:
    twilio.keyword_opt_out = False
    slack.add_user(AGENT, "ana", "Ana Ruiz", display_name="Ana")
    slack.add_user(OUTSIDER, "olly", "Olly Out")
    slack.add_user(GUEST, "gus", "Gus Guest", team_id="T0ELSEWHERE")
    slack.join(INBOX, AGENT, GUEST)


def url(bridge: BridgeUnderTest) -> str:
    return f"{bridge.url}/slack/events"


async def held_reply(bridge: BridgeUnderTest, slack: SlackEmulator) -> tuple[str, Ephemeral]:
    """Ana's promotional reply, held for her decision: (its message id, her note)."""
    thread = await open_thread(bridge, slack, ANA)
    await agent_replies(bridge, slack, thread, PROMO)
    await eventually(lambda: any(e.blocks for e in slack.ephemerals))
    note = next(e for e in slack.ephemerals if e.blocks)
    return str(note.blocks[1]["elements"][0]["value"]), note


async def test_held_reply_actions_need_a_member_and_its_author(
    bridge: BridgeUnderTest, slack: SlackEmulator, twilio: TwilioEmulator
) -> None:
    held, note = await held_reply(bridge, slack)

    for user in (OUTSIDER, GUEST):
        for action in ("held_edit", "held_cancel"):
            click = slack.block_action(user, action, held, channel=INBOX, message_ts=note.ts)
            assert (await slack.deliver(url(bridge), click, kind="interactive")).status == 200
    # A submission as if the modal had been opened for them.
    slack.modals[OUTSIDER] = {
        "type": "modal",
        "id": "V0FORGED",
        "callback_id": "held_edit_modal",
        "private_metadata": json.dumps({"message": held, "note": None}),
    }
    forged = slack.view_submission(OUTSIDER, {"reply_block": {"reply": "text of a non-member"}})
    answer = await slack.deliver(url(bridge), forged, kind="interactive")
    assert answer.status == 200
    assert OUTSIDER not in slack.modals
    assert GUEST not in slack.modals
    assert twilio.sent == []

    # The author still decides: the reply was neither cancelled nor sent by them.
    click = slack.block_action(AGENT, "held_cancel", held, channel=INBOX, message_ts=note.ts)
    await slack.deliver(url(bridge), click, kind="interactive")
    await eventually(lambda: any("Cancelled" in json.dumps(r) for r in slack.responses))


async def test_held_edit_opens_only_a_held_reply_of_the_conversation_clicked_in(
    bridge: BridgeUnderTest, slack: SlackEmulator, store: Store
) -> None:
    held, note = await held_reply(bridge, slack)
    # The customer's own text (an inbound message id) is not a held reply.
    other = await open_thread(bridge, slack, BEN)
    inbound = await message_id(store, "Hello?", BEN)
    click = slack.block_action(AGENT, "held_edit", inbound, channel=INBOX, message_ts=other)
    await slack.deliver(url(bridge), click, kind="interactive")
    # Ana's held reply, clicked from another conversation's thread.
    click = slack.block_action(AGENT, "held_edit", held, channel=INBOX, message_ts=other)
    await slack.deliver(url(bridge), click, kind="interactive")
    assert AGENT not in slack.modals
    # Without a trigger_id there is no modal to open: acknowledged, nothing else.
    click = slack.block_action(AGENT, "held_edit", held, channel=INBOX, message_ts=note.ts)
    del click["trigger_id"]
    assert (await slack.deliver(url(bridge), click, kind="interactive")).status == 200


async def message_id(store: Store, body: str, phone: str) -> str:
    conversation = await store.find_conversation(BUSINESS, phone)
    assert conversation is not None
    recent = await store.recent_messages(conversation.id, limit=10)
    [message] = [m for m in recent if m.body == body]
    return message.id


async def test_thread_replies_are_texted_only_for_members_of_this_workspace(
    bridge: BridgeUnderTest, slack: SlackEmulator, twilio: TwilioEmulator
) -> None:
    thread = await open_thread(bridge, slack, ANA)
    for user in (OUTSIDER, GUEST):
        _, answer = await agent_replies(bridge, slack, thread, f"from {user}", user=user)
        assert answer.status == 200
    # A member's reply whose event says it comes from another workspace.
    event = slack.user_posts(INBOX, AGENT, "from another team", thread_ts=thread)
    event["team"] = "T0ELSEWHERE"
    assert (await slack.deliver(url(bridge), event)).status == 200
    await agent_replies(bridge, slack, thread, "from the team")
    await eventually(lambda: [m.body for m in twilio.sent] == ["from the team"])
    await bridge.idle()
    assert [m.body for m in twilio.sent] == ["from the team"]
    # The outsider and the guest learn why, in the thread, where only they see it.
    told = {e.user for e in slack.ephemerals if "not sent" in e.text.lower()}
    assert {OUTSIDER, GUEST} <= told


async def test_a_status_callback_acts_only_on_replies_the_bridge_sent(
    bridge: BridgeUnderTest, slack: SlackEmulator, twilio: TwilioEmulator
) -> None:
    sid = "SM" + "a" * 32
    thread = await open_thread(bridge, slack, ANA)
    await bridge.text(ANA, "is this thing on?", sid=sid)
    await eventually(lambda: len(thread_texts(slack, "415-555-0123")) == 2)
    form = {"MessageSid": sid, "MessageStatus": "failed", "ErrorCode": "21610"}
    signature = twilio.sign(f"{PUBLIC_URL}/sms/status", form)
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{bridge.url}/sms/status", data=form, headers={"X-Twilio-Signature": signature}
        ) as answer,
    ):
        assert answer.status == 200
    await bridge.idle()
    # No opt-out was recorded: a reply still goes out, and no ⚠️ marks the text.
    await agent_replies(bridge, slack, thread, "yes, we hear you")
    await eventually(lambda: [m.body for m in twilio.sent] == ["yes, we hear you"])
    assert not any("warning" in m.reactions for m in slack.replies(INBOX, thread))


async def test_header_buttons_act_only_on_the_card_clicked(
    bridge: BridgeUnderTest, slack: SlackEmulator
) -> None:
    first = await open_thread(bridge, slack, ANA)
    second = await open_thread(bridge, slack, BEN)
    # Resolve #2's value, clicked on #1's card; and a value too large for any store.
    for value, where in (("2", first), ("9" * 30, first), ("-1", second), ("", second)):
        click = slack.block_action(AGENT, "header_resolve", value, channel=INBOX, message_ts=where)
        assert (await slack.deliver(url(bridge), click, kind="interactive")).status == 200
    await bridge.idle()
    for card in (first, second):
        parent = slack.message(INBOX, card)
        assert parent is not None
        assert "Resolved" not in json.dumps(parent.blocks)
    # On its own card, the button works.
    click = slack.block_action(AGENT, "header_resolve", "2", channel=INBOX, message_ts=second)
    await slack.deliver(url(bridge), click, kind="interactive")
    await eventually(
        lambda: "Resolved" in json.dumps(getattr(slack.message(INBOX, second), "blocks", ""))
    )


async def test_a_draft_is_sent_only_from_its_own_conversation(
    bridge: BridgeUnderTest, slack: SlackEmulator, twilio: TwilioEmulator, store: Store
) -> None:
    own = await open_thread(bridge, slack, ANA)
    await bridge.text(ANA, "What are your opening hours?")
    other = await open_thread(bridge, slack, BEN)
    draft_of_ana = await message_id(store, "What are your opening hours?", ANA)
    click = slack.block_action(AGENT, "draft_send", draft_of_ana, channel=INBOX, message_ts=other)
    assert (await slack.deliver(url(bridge), click, kind="interactive")).status == 200
    await bridge.idle()
    assert twilio.sent == []
    # Clicked where it is shown, it goes out.
    [card] = [m for m in slack.replies(INBOX, own) if "opening hours" in m.text]
    click = slack.block_action(AGENT, "draft_send", draft_of_ana, channel=INBOX, message_ts=card.ts)
    await slack.deliver(url(bridge), click, kind="interactive")
    await eventually(lambda: [m.body for m in twilio.sent] == ["9-5, Mon-Fri."])


async def test_malformed_dialogs_and_shortcuts_are_acknowledged_and_change_nothing(
    bridge: BridgeUnderTest, slack: SlackEmulator
) -> None:
    thread = await open_thread(bridge, slack, ANA)
    for metadata in ("abc", "", "9" * 40, '{"message": 1}'):
        for callback in ("sms_actions_modal", "draft_edit_modal", "held_edit_modal"):
            slack.modals[AGENT] = {
                "type": "modal",
                "id": "V0X",
                "callback_id": callback,
                "private_metadata": metadata,
            }
            values: dict[str, Any] = {"reply_block": {"reply": "hi"}}
            submission = slack.view_submission(AGENT, values)
            answer = await slack.deliver(url(bridge), submission, kind="interactive")
            assert answer.status == 200, (callback, metadata, answer.text)
    shortcut = slack.message_shortcut(AGENT, INBOX, thread, "sms_actions")
    del shortcut["trigger_id"]
    assert (await slack.deliver(url(bridge), shortcut, kind="interactive")).status == 200


async def test_reactions_of_a_guest_from_another_organisation_do_nothing(
    bridge: BridgeUnderTest, slack: SlackEmulator
) -> None:
    thread = await open_thread(bridge, slack, ANA)
    reaction = slack.user_reacts(INBOX, thread, GUEST, "white_check_mark")
    assert (await slack.deliver(url(bridge), reaction)).status == 200
    await bridge.idle()
    parent = slack.message(INBOX, thread)
    assert parent is not None
    assert "Resolved" not in json.dumps(parent.blocks)
    await slack.deliver(url(bridge), slack.user_reacts(INBOX, thread, AGENT, "white_check_mark"))
    await eventually(lambda: "Resolved" in json.dumps(parent.blocks))
