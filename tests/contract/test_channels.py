"""Channels: a conversation is keyed by (channel, business number, subscriber), and so
is consent. The same number on SMS and on WhatsApp is two conversations, two threads
and two ledgers, on every engine."""

from __future__ import annotations

from datetime import datetime, timedelta

from bridge.compliance.consent import revocation
from bridge.models import Channel, ConsentSource, InboundSms
from bridge.store.base import Store
from tests.contract.conftest import BUSINESS, SUBSCRIBER, T0, sms

LATER = T0 + timedelta(hours=3)


def whatsapp(sid: str, *, at: datetime = T0) -> InboundSms:
    return sms(sid, at=at, channel=Channel.WHATSAPP)


async def test_the_same_number_on_sms_and_whatsapp_is_two_conversations(store: Store) -> None:
    on_sms = await store.record_inbound(sms("SM1"))
    on_whatsapp = await store.record_inbound(whatsapp("SM2"))
    again = await store.record_inbound(whatsapp("SM3", at=LATER))

    assert on_sms.conversation.id != on_whatsapp.conversation.id
    assert on_sms.conversation.channel is Channel.SMS
    assert on_whatsapp.conversation.channel is Channel.WHATSAPP
    assert again.conversation.id == on_whatsapp.conversation.id
    assert str(on_whatsapp.conversation.subscriber_address) == f"whatsapp:{SUBSCRIBER}"
    assert str(on_whatsapp.conversation.business_address) == f"whatsapp:{BUSINESS}"
    found = await store.find_conversation(BUSINESS, SUBSCRIBER, Channel.WHATSAPP)
    assert found is not None
    assert found.id == on_whatsapp.conversation.id
    found = await store.find_conversation(BUSINESS, SUBSCRIBER)
    assert found is not None
    assert found.id == on_sms.conversation.id


async def test_opening_a_conversation_keeps_to_its_channel(store: Store) -> None:
    on_sms = await store.open_conversation(BUSINESS, SUBSCRIBER)
    on_whatsapp = await store.open_conversation(BUSINESS, SUBSCRIBER, Channel.WHATSAPP)

    assert on_sms.id != on_whatsapp.id
    assert on_whatsapp.channel is Channel.WHATSAPP
    assert on_whatsapp.last_inbound_at is None  # the business started it: no window yet
    assert (await store.open_conversation(BUSINESS, SUBSCRIBER, Channel.WHATSAPP)).id == (
        on_whatsapp.id
    )


async def test_the_last_inbound_text_is_kept_for_the_reply_window(store: Store) -> None:
    await store.record_inbound(whatsapp("SM1", at=LATER))
    record = await store.record_inbound(whatsapp("SM2", at=T0))  # late, out of order

    assert record.conversation.last_inbound_at == LATER
    conversation = await store.get_conversation(record.conversation.id)
    assert conversation is not None
    assert conversation.last_inbound_at == LATER


async def test_consent_is_per_channel(store: Store) -> None:
    await store.record_consent(
        revocation(
            BUSINESS,
            SUBSCRIBER,
            channel=Channel.WHATSAPP,
            source=ConsentSource.KEYWORD,
            at=T0,
            evidence="STOP",
            ref="SM1",
        )
    )

    assert not (await store.consent_state(BUSINESS, SUBSCRIBER, Channel.WHATSAPP)).conversational
    assert (await store.consent_state(BUSINESS, SUBSCRIBER)).conversational
    [*events] = await store.consent_log()
    assert {event.channel for event in events} == {Channel.WHATSAPP}
