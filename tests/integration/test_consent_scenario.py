"""A seeded random day of mixed actions — texts with keywords, agent replies,
imports, carrier 21610s, provider retries — through the real pipelines, store and
sender. It must end with zero texts to anyone whose consent was withdrawn."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bridge.compliance.consent import opt_in, revocation
from bridge.compliance.keyword_desk import KeywordDesk
from bridge.config import BusinessConfig
from bridge.events import Publishing
from bridge.models import (
    ConsentSource,
    InboundSms,
    JobKind,
    utcnow,
)
from bridge.sms.send_failures import send_failure
from bridge.store.sqlite import SQLiteStore
from bridge.threading.conversation_desk import ConversationDesk
from bridge.threading.inbound import InboundPipeline
from bridge.threading.outbound import OutboundPipeline, ReplyRules
from bridge.threading.sending import Refused, ReplySender, Sender
from tests.support import NoMentions

BUSINESS = "+14155550100"
PHONES = [f"+1415555{2000 + n:04d}" for n in range(12)]
TEXTS = [
    "STOP",
    "stop!",
    "Unsubscribe",
    "Please stop texting me",
    "remove me from your list",
    "START",
    "unstop",
    "HELP",
    "hi there",
    "I want to cancel my order",
    "how do I stop these?",
    "what time do you end today?",
    "Thanks!",
]
CONFIG = BusinessConfig.model_validate(
    {"business": {"name": "Bakery", "contact": "call us"}, "slack": {"undo_seconds": 0}}
)


class CarrierPhone:
    """The SMS side: records every text that would leave, and blocks like a carrier."""

    def __init__(self, store: SQLiteStore) -> None:
        self.store = store
        self.blocked: set[str] = set()
        self.sent: list[tuple[str, str]] = []
        self.violations: list[str] = []
        self.exempt = {
            CONFIG.compliance.opt_out_confirmation.format_map(
                {
                    "business_name": "Bakery",
                    "business_contact": "call us",
                    "business_hours": "see our website",
                }
            ),
            CONFIG.compliance.help_reply.format_map(
                {
                    "business_name": "Bakery",
                    "business_contact": "call us",
                    "business_hours": "see our website",
                }
            ),
        }

    async def send(self, to: str, sender: Sender, body: str) -> str:
        if to in self.blocked:
            raise Refused(send_failure(21610))  # "unsubscribed recipient"
        consent = await self.store.consent_state(BUSINESS, to)
        if not consent.conversational and body not in self.exempt:
            self.violations.append(f"{body!r} to {to} after revocation at {consent.revoked_at}")
        self.sent.append((to, body))
        return f"SMf{len(self.sent):031x}"  # unlike the inbound sids

    def wait_for(self, sender: Sender) -> float:
        return 0.0

    async def find_sent(self, to: str, sender: Sender, body: str, since: datetime) -> list[str]:
        return []


async def test_thousands_of_mixed_actions_never_text_a_revoked_number(tmp_path: Path) -> None:
    rng = random.Random(20261127)
    store = SQLiteStore(tmp_path / "scenario.db")
    await store.open()
    phone = CarrierPhone(store)
    desk = KeywordDesk(store, CONFIG.compliance, CONFIG.business, on_enqueued=lambda: None)
    inbound = InboundPipeline(
        store,
        desk,
        ConversationDesk(store, on_enqueued=lambda: None, publishing=Publishing()),
        header_refresh=timedelta(minutes=15),
        on_enqueued=lambda: None,
    )
    replies = OutboundPipeline(store, ReplyRules(undo_seconds=0), on_enqueued=lambda: None)
    sender = ReplySender(
        store, phone, NoMentions(), messaging_service_sid=None, on_enqueued=lambda: None
    )
    sids: list[str] = []
    for step in range(3000):
        action = rng.random()
        who = rng.choice(PHONES)
        if action < 0.45:
            sid = rng.choice(sids) if sids and rng.random() < 0.1 else f"SM{step:032x}"
            sids.append(sid)
            record = await inbound.receive(
                InboundSms(
                    sid=sid, business_number=BUSINESS, subscriber=who, body=rng.choice(TEXTS)
                )
            )
            if record.conversation.slack_thread_ts is None:
                await store.set_thread(
                    record.conversation.id, "C0INBOX", f"{step}.0", replacing=None
                )
        elif action < 0.8:
            conversation = await store.find_conversation(BUSINESS, who)
            if conversation is not None and conversation.slack_thread_ts is not None:
                await replies.reply(
                    conversation,
                    author="U0ANA",
                    channel="C0INBOX",
                    ts=f"{step}.1",
                    text=rng.choice(["On it!", "Your order ships today", "See you at 5"]),
                )
        elif action < 0.87:
            granted = rng.random() < 0.5
            build = opt_in if granted else revocation
            await store.record_consent(
                build(
                    BUSINESS,
                    who,
                    source=ConsentSource.IMPORT,
                    at=utcnow(),
                    evidence="contacts.csv",
                    ref=None,
                )
            )
        elif action < 0.92:
            phone.blocked.add(who)  # the subscriber texted STOP to the carrier directly
        else:
            phone.blocked.discard(who)
        if step % 7 == 0:
            await _run_sends(store, sender)
    await _run_sends(store, sender)
    await store.close()

    assert phone.violations == []
    assert len(phone.sent) > 200, "the scenario should send plenty of allowed texts"


async def _run_sends(store: SQLiteStore, sender: ReplySender) -> None:
    while jobs := await store.claim_jobs(
        "scenario", now=utcnow() + timedelta(seconds=1), limit=50, lease_seconds=30
    ):
        for job in jobs:
            if job.kind is JobKind.SEND_SMS:
                await sender(job)
            await store.complete_job(job)


async def test_an_opt_out_is_in_the_ledger_even_if_storing_the_text_fails(
    tmp_path: Path,
) -> None:
    store = SQLiteStore(tmp_path / "fail.db")
    await store.open()
    desk = KeywordDesk(store, CONFIG.compliance, CONFIG.business, on_enqueued=lambda: None)
    inbound = InboundPipeline(
        store,
        desk,
        ConversationDesk(store, on_enqueued=lambda: None, publishing=Publishing()),
        header_refresh=timedelta(minutes=15),
        on_enqueued=lambda: None,
    )

    async def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("disk full")

    working = store.record_inbound
    store.record_inbound = broken  # type: ignore[method-assign]
    stop = InboundSms(
        sid="SM" + "5" * 32,
        business_number=BUSINESS,
        subscriber=PHONES[0],
        body="Please stop texting me",
    )
    with pytest.raises(RuntimeError):  # the webhook answers 5xx: Twilio will retry
        await inbound.receive(stop)
    assert (await store.consent_state(BUSINESS, PHONES[0])).conversational is False

    store.record_inbound = working  # type: ignore[method-assign]
    record = await inbound.receive(stop)  # Twilio's retry
    assert record.created
    assert len(await store.consent_log()) == 2  # recorded once, not twice
    await store.close()
