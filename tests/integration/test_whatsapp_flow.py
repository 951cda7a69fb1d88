"""WhatsApp through Twilio, end to end against the emulators with the real Bolt app,
slack_sdk and twilio clients: the same webhook and Messages API with `whatsapp:`
addresses, a thread of its own, the 24-hour reply window, consent per address."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from bridge.config import BusinessConfig
from bridge.models import Channel, InboundSms, utcnow
from bridge.sandbox.slack_emulator import SlackEmulator
from bridge.sandbox.twilio_emulator import TwilioEmulator
from bridge.store.sqlite import SQLiteStore
from tests.support import (
    AGENT,
    BUSINESS,
    INBOX,
    BridgeUnderTest,
    agent_replies,
    ephemerals,
    eventually,
    open_thread,
    parents,
    slash,
    whatsapp_parents,
)

ANA = "+14155550123"
WINDOW = "within 24 hours of the customer's last message"


@pytest.fixture
def business_config() -> BusinessConfig:
    return BusinessConfig.model_validate(
        {"slack": {"undo_seconds": 0}, "canned": {"thanks": "Thanks for your order!"}}
    )


@pytest.fixture
def bridge_store(db_path: Path) -> SQLiteStore:
    return SQLiteStore(db_path)  # the test writes a text of yesterday into it


@pytest.fixture(autouse=True)
def people(slack: SlackEmulator) -> None:
    slack.add_user(AGENT, "ana", "Ana Ruiz", display_name="Ana")
    slack.join(INBOX, AGENT)  # only members of the inbox text customers


async def open_whatsapp_thread(bridge: BridgeUnderTest, slack: SlackEmulator, phone: str) -> str:
    assert (await bridge.whatsapp(phone, "Hola, do you deliver?")).status == 200
    await eventually(lambda: len(whatsapp_parents(slack)) == 1)
    [thread] = whatsapp_parents(slack)
    await eventually(lambda: len(slack.replies(INBOX, thread)) >= 1)
    return thread


async def test_a_whatsapp_text_opens_its_own_thread_labelled_whatsapp(
    bridge: BridgeUnderTest, slack: SlackEmulator
) -> None:
    sms_thread = await open_thread(bridge, slack, ANA)
    whatsapp_thread = await open_whatsapp_thread(bridge, slack, ANA)

    assert whatsapp_thread != sms_thread
    parent = slack.message(INBOX, whatsapp_thread)
    assert parent is not None
    assert "WhatsApp · +1 415-555-0123" in str(parent.blocks)
    assert [m.text for m in slack.replies(INBOX, whatsapp_thread)] == ["Hola, do you deliver?"]
    assert [m.text for m in slack.replies(INBOX, sms_thread)] == ["Hello?"]
    sms_parent = slack.message(INBOX, sms_thread)
    assert sms_parent is not None
    assert "WhatsApp" not in sms_parent.text + str(sms_parent.blocks)
    assert len(parents(slack)) == 1  # the SMS conversation's parent only


async def test_a_reply_goes_out_with_whatsapp_addresses(
    bridge: BridgeUnderTest, slack: SlackEmulator, twilio: TwilioEmulator
) -> None:
    thread = await open_whatsapp_thread(bridge, slack, ANA)
    await agent_replies(bridge, slack, thread, "Yes — every day from 9 😀")

    await eventually(lambda: len(twilio.sent) == 1)
    [sent] = twilio.sent
    assert (sent.to, sent.from_) == (f"whatsapp:{ANA}", f"whatsapp:{BUSINESS}")
    assert sent.body == "Yes — every day from 9 😀"  # no GSM-7 look-alikes on WhatsApp
    await bridge.idle()
    # No SMS segment notes: WhatsApp has no segments.
    assert not any("segments" in text for text in ephemerals(slack))


async def test_a_reply_25_hours_after_the_last_text_is_refused_with_the_reason(
    bridge: BridgeUnderTest, slack: SlackEmulator, twilio: TwilioEmulator, bridge_store: SQLiteStore
) -> None:
    await bridge_store.record_inbound(
        InboundSms(
            sid="SM" + "9" * 32,
            channel=Channel.WHATSAPP,
            business_number=BUSINESS,
            subscriber=ANA,
            body="Can I order a cake?",
            received_at=utcnow() - timedelta(hours=25),
        )
    )
    await eventually(lambda: len(whatsapp_parents(slack)) == 1)
    [thread] = whatsapp_parents(slack)
    # The text is in the thread: the bridge knows the thread (its parent is stored
    # first), so the agent's reply lands in a conversation and not in an unknown thread.
    await eventually(lambda: len(slack.replies(INBOX, thread)) >= 1)

    refused, _ = await agent_replies(bridge, slack, thread, "Sure, which flavour?")
    await eventually(lambda: any(WINDOW in text for text in ephemerals(slack)))
    [note] = [text for text in ephemerals(slack) if WINDOW in text]
    assert "template messages are not supported yet" in note
    refused_ts = refused["event"]["ts"]
    await eventually(lambda: "no_entry_sign" in slack.message(INBOX, refused_ts).reactions)
    answer = await slash(bridge, slack, "canned thanks #1")  # commands are guarded alike
    assert WINDOW in answer.text
    await bridge.idle()
    assert twilio.sent == []


async def test_sms_send_to_a_whatsapp_address_with_no_text_from_it_is_refused(
    bridge: BridgeUnderTest, slack: SlackEmulator, twilio: TwilioEmulator
) -> None:
    answer = await slash(bridge, slack, f"send whatsapp:{ANA} Your order is ready")
    assert WINDOW in answer.text
    await bridge.idle()
    assert twilio.sent == []


async def test_stop_on_whatsapp_blocks_replies_there_and_not_on_sms(
    bridge: BridgeUnderTest, slack: SlackEmulator, twilio: TwilioEmulator
) -> None:
    sms_thread = await open_thread(bridge, slack, ANA)
    whatsapp_thread = await open_whatsapp_thread(bridge, slack, ANA)
    await bridge.whatsapp(ANA, "STOP")
    # Twilio answers no keyword on WhatsApp: the bridge confirms the opt-out itself.
    await eventually(lambda: [m.to for m in twilio.sent] == [f"whatsapp:{ANA}"])
    assert "START" in twilio.sent[0].body

    await agent_replies(bridge, slack, whatsapp_thread, "Sorry to see you go")
    await eventually(lambda: any("opted out" in text for text in ephemerals(slack)))
    await agent_replies(bridge, slack, sms_thread, "Your SMS order is ready")
    await eventually(lambda: len(twilio.sent) == 2)
    await bridge.idle()
    assert [(m.to, m.body) for m in twilio.sent[1:]] == [(ANA, "Your SMS order is ready")]
    # Each thread's card shows its own address's consent.
    await eventually(lambda: "opted out" in card_text(slack, whatsapp_thread))
    assert "opted out" not in card_text(slack, sms_thread)


def card_text(slack: SlackEmulator, thread: str) -> str:
    parent = slack.message(INBOX, thread)
    return json.dumps(parent.blocks) if parent is not None else ""


async def test_twilios_63016_shows_the_window_reason_on_the_reply(
    bridge: BridgeUnderTest, slack: SlackEmulator, twilio: TwilioEmulator
) -> None:
    thread = await open_whatsapp_thread(bridge, slack, ANA)
    # The window closed between the check and the send: Twilio refuses with 63016.
    twilio.fail(400, endpoint="messages.create", code=63016)
    await agent_replies(bridge, slack, thread, "Still there?")
    await eventually(
        lambda: any(WINDOW in m.text and "63016" in m.text for m in slack.replies(INBOX, thread))
    )
