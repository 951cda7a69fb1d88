"""Channels: addresses, Twilio's `whatsapp:` form, WhatsApp's 24-hour reply window
(on an injected clock) and where a conversation's channel shows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bridge.compliance.guard import refusal
from bridge.config import ConfigError, load_settings
from bridge.models import (
    Address,
    Channel,
    ConsentState,
    Conversation,
    MessagePurpose,
)
from bridge.slack.blocks.header_card import render_header
from bridge.slack.blocks.wording import WINDOW_CLOSED, failure_text, problem_text
from bridge.sms.inbound_form import MalformedForm, parse_inbound
from bridge.sms.send_failures import send_failure
from bridge.sms.sender import twilio_form

NOW = datetime(2026, 3, 2, 17, 5, tzinfo=UTC)
SID = "SM" + "0" * 32


def conversation(channel: Channel, *, last_inbound: timedelta | None) -> Conversation:
    return Conversation(
        id=7,
        channel=channel,
        business_number="+14155550100",
        subscriber="+14155550142",
        created_at=NOW - timedelta(days=3),
        last_activity_at=NOW - timedelta(hours=1),
        last_inbound_at=None if last_inbound is None else NOW - last_inbound,
    )


@pytest.mark.parametrize(
    ("text", "channel"),
    [
        ("whatsapp:+14155550100", Channel.WHATSAPP),
        ("+14155550100", Channel.SMS),
        ("sms:+14155550100", Channel.SMS),
    ],
)
def test_an_address_is_a_channel_and_a_number(text: str, channel: Channel) -> None:
    address = Address.parse(text)
    assert (address.channel, address.id) == (channel, "+14155550100")
    assert str(address) == f"{channel}:+14155550100"
    assert Address.parse(str(address)) == address


def test_twilios_form_of_an_address_has_no_prefix_for_sms() -> None:
    assert twilio_form(Address(channel=Channel.SMS, id="+14155550100")) == "+14155550100"
    assert twilio_form(Address(channel=Channel.WHATSAPP, id="+1415")) == "whatsapp:+1415"


def test_an_unknown_channel_is_no_address() -> None:
    with pytest.raises(ValueError, match="telegram"):
        Address.parse("telegram:+14155550100")


def test_a_whatsapp_text_arrives_on_the_same_webhook() -> None:
    form = {
        "MessageSid": SID,
        "From": "whatsapp:+14155550123",
        "To": "whatsapp:+14155550100",
        "Body": "hola",
        "NumMedia": "1",
        "MediaUrl0": "https://m/0",
        "MediaContentType0": "image/jpeg",
    }
    sms = parse_inbound(form)
    assert (sms.channel, sms.subscriber, sms.business_number) == (
        Channel.WHATSAPP,
        "+14155550123",
        "+14155550100",
    )
    assert [m.url for m in sms.media] == ["https://m/0"]
    assert parse_inbound(form | {"From": "+14155550123", "To": "+14155550100"}).channel is (
        Channel.SMS
    )


def test_from_and_to_on_different_channels_are_malformed() -> None:
    form = {"MessageSid": SID, "From": "whatsapp:+14155550123", "To": "+14155550100"}
    with pytest.raises(MalformedForm, match="same channel"):
        parse_inbound(form)


@pytest.mark.parametrize(
    ("channel", "last_inbound", "refused"),
    [
        (Channel.WHATSAPP, timedelta(hours=23, minutes=59), False),
        (Channel.WHATSAPP, timedelta(hours=25), True),
        (Channel.WHATSAPP, None, True),  # the business would start it: only a template may
        (Channel.SMS, timedelta(days=30), False),  # SMS has no window
    ],
)
def test_whatsapp_replies_only_within_24_hours_of_the_customers_last_message(
    channel: Channel, last_inbound: timedelta | None, refused: bool
) -> None:
    why = refusal(
        conversation(channel, last_inbound=last_inbound),
        ConsentState(),
        MessagePurpose.REPLY,
        now=NOW,
    )
    assert (why is not None and WINDOW_CLOSED in problem_text(why)) is refused
    if refused:
        assert "template messages are not supported yet" in WINDOW_CLOSED


def test_twilios_63016_reads_like_the_window_refusal() -> None:
    assert failure_text(send_failure(63016)) == f"{WINDOW_CLOSED} (63016)"


def test_the_header_says_whatsapp_only_for_whatsapp() -> None:
    text, blocks = render_header(
        conversation(Channel.WHATSAPP, last_inbound=None), None, ConsentState()
    )
    assert "WhatsApp" in text
    assert "WhatsApp · +1 415-555-0142" in blocks[0]["text"]["text"]
    text, blocks = render_header(conversation(Channel.SMS, last_inbound=None), None, ConsentState())
    assert "WhatsApp" not in text + str(blocks)
    assert text.startswith("SMS conversation")


def test_the_whatsapp_numbers_setting_names_itself_when_malformed() -> None:
    settings = {
        "slack_bot_token": "xoxb-1",
        "slack_signing_secret": "s",
        "slack_inbox_channel": "C0X1",
        "twilio_account_sid": "AC" + "0" * 32,
        "twilio_auth_token": "t",
        "twilio_from_number": "+14155550100",
        "bridge_public_url": "https://sms.example.test",
    }
    numbers = "whatsapp:+14155550100, +14155550101"
    loaded = load_settings(**settings, twilio_whatsapp_numbers=numbers)
    assert loaded.twilio_whatsapp_numbers == ["+14155550100", "+14155550101"]
    with pytest.raises(ConfigError, match="TWILIO_WHATSAPP_NUMBERS"):
        load_settings(**settings, twilio_whatsapp_numbers="415 555 0100")
