"""What happens when an inbound text is a compliance keyword: the ledger hears it
first, and the bridge answers where the provider does not.

Every step is idempotent by the text's MessageSid, so a provider retry (or a crash
half-way) repeats nothing: consent events are keyed by it, and so are the texts
the bridge sends back."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Protocol

from bridge.compliance.consent import opt_in, revocation
from bridge.compliance.keywords import KeywordClass, KeywordMatcher, classify
from bridge.config import Business, Compliance
from bridge.events import KeywordAnswered
from bridge.jobs import thread_note_job
from bridge.models import (
    Channel,
    ConsentSource,
    InboundRecord,
    InboundSms,
    KeywordMark,
    MessagePurpose,
    utcnow,
)
from bridge.store.base import ConsentStore, JobStore, ReplyStore
from bridge.templates import fill


class _Store(ReplyStore, ConsentStore, JobStore, Protocol):
    """The store roles this module uses."""


@dataclass(frozen=True)
class NumberPolicy:
    """The keyword rules of one business number."""

    matcher: KeywordMatcher
    provider_answers: frozenset[str]


def business_hours(business: Business) -> str:
    if not business.hours:
        return "see our website"
    return ", ".join(f"{days} {span}" for days, span in business.hours.items())


class KeywordDesk:
    def __init__(
        self,
        store: _Store,
        compliance: Compliance,
        business: Business,
        on_enqueued: Callable[[], None],
    ) -> None:
        self._store = store
        self._config = compliance
        self._on_enqueued = on_enqueued
        self._default = self._policy(None)
        self._by_number = {number: self._policy(number) for number in compliance.numbers}
        self._fields = {
            "business_name": business.name,
            "business_contact": business.contact,
            "business_hours": business_hours(business),
        }

    def _policy(self, number: str | None) -> NumberPolicy:
        override = self._config.numbers.get(number) if number else None
        keywords = (override.keywords if override and override.keywords else None) or (
            self._config.keywords
        )
        phrases = (override.revocation_phrases if override else None) or (
            self._config.revocation_phrases
        )
        answers = (override.provider_answers if override else None) or (
            self._config.provider_answers
        )
        matcher = KeywordMatcher.from_config(keywords)
        if phrases is not None:
            matcher = replace(matcher, revocation_phrases=tuple(phrases))
        return NumberPolicy(matcher=matcher, provider_answers=frozenset(answers))

    def policy(self, business_number: str) -> NumberPolicy:
        return self._by_number.get(business_number, self._default)

    def mark(self, sms: InboundSms) -> KeywordMark | None:
        verdict = classify(sms.body, self.policy(sms.business_number).matcher)
        if verdict.kind is KeywordClass.OPT_OUT:
            return KeywordMark.OPT_OUT_PHRASE if verdict.revocation_phrase else KeywordMark.OPT_OUT
        if verdict.kind is KeywordClass.OPT_IN:
            return KeywordMark.OPT_IN
        if verdict.kind is KeywordClass.HELP:
            return KeywordMark.HELP
        return KeywordMark.MAYBE_OPT_OUT if verdict.flag else None

    async def record_consent(self, sms: InboundSms, mark: KeywordMark | None) -> None:
        """The ledger hears an opt-out or opt-in before the text is even stored: if a
        later step fails, the opt-out is honoured all the same. Keyed by the
        MessageSid, so a provider retry records nothing twice."""
        if mark not in {KeywordMark.OPT_OUT, KeywordMark.OPT_OUT_PHRASE, KeywordMark.OPT_IN}:
            return
        record_events = opt_in if mark is KeywordMark.OPT_IN else revocation
        await self._store.record_consent(
            record_events(
                sms.business_number,
                sms.subscriber,
                channel=sms.channel,
                source=(
                    ConsentSource.PHRASE
                    if mark is KeywordMark.OPT_OUT_PHRASE
                    else ConsentSource.KEYWORD
                ),
                at=sms.received_at,
                evidence=sms.body,
                ref=sms.sid,
            )
        )

    async def answer(self, record: InboundRecord) -> None:
        """Queue the bridge's own answer to a keyword, where the provider gives none."""
        message, conversation = record.message, record.conversation
        mark = message.keyword
        if mark is None or not mark.replaces_post:
            return
        # Twilio answers keywords on SMS only: on WhatsApp the bridge answers them all.
        answered = (
            self.policy(conversation.business_number).provider_answers
            if conversation.channel is Channel.SMS
            else frozenset()
        )
        sid = message.sid or message.id
        if mark is KeywordMark.HELP:
            if "help" not in answered:
                await self._answer(
                    record, self._config.help_reply, MessagePurpose.HELP_REPLY, f"help:{sid}"
                )
        elif mark is KeywordMark.OPT_IN:
            if "opt_in" not in answered:
                await self._answer(
                    record,
                    self._config.opt_in_confirmation,
                    MessagePurpose.OPT_IN_CONFIRMATION,
                    f"rejoin:{sid}",
                )
        # The provider catches single keywords only; a phrase is always ours to confirm.
        elif mark is KeywordMark.OPT_OUT_PHRASE or "opt_out" not in answered:
            await self._answer(
                record,
                self._config.opt_out_confirmation,
                MessagePurpose.OPT_OUT_CONFIRMATION,
                f"confirm:{sid}",
            )

    async def _answer(
        self, record: InboundRecord, template: str, purpose: MessagePurpose, key: str
    ) -> None:
        body = fill(template, self._fields)
        queued = await self._store.record_system_text(
            record.conversation.id, body, purpose, key=key
        )
        if queued is None:
            return  # answered already (a provider retry)
        answered = KeywordAnswered(conversation_id=record.conversation.id, body=body)
        await self._store.enqueue(thread_note_job(answered, key=key), run_at=utcnow())
        self._on_enqueued()
