"""Replies to campaign texts: an answer to a poll, a rating or an opt-in request is
counted by its campaign's flow instead of becoming an inbox message; anything else goes
to the inbox as usual, carrying the campaign text it replies to (its post quotes it).

`CampaignReplies.read_reply` runs for every inbound text after the compliance keywords
(`threading/inbound.py`): STOP, HELP and START are never answers."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from bridge.campaigns.models import QUOTE_WINDOW, Answer, Campaign
from bridge.jobs import campaign_results_job
from bridge.models import Direction, InboundSms, Message
from bridge.store.base import AnswerStore, CampaignStore, MessageStore
from bridge.threading.inbound import ReplyReading

Keep = Literal["last", "first"]
# How many of the conversation's latest messages are looked through for a person's
# reply since the campaign text (a bound on the read; that many is a conversation).
TALK_LOOKBACK = 20


class _Store(CampaignStore, AnswerStore, MessageStore, Protocol):
    """The store roles this module uses."""


@dataclass(frozen=True)
class CampaignReply:
    """A text read as an answer, and recorded."""

    campaign: Campaign
    text: Message  # the campaign text it answers (its conversation is the subscriber's)
    sms: InboundSms
    answer: Answer
    changed: bool  # the subscriber's counted answer changed (False: a repeat or a retry)


class AnswerFlow(Protocol):
    """One kind of answer a campaign waits for (a poll's, a rating, an opt-in)."""

    def read(self, campaign: Campaign, text: str) -> str | None:
        """The choice the text makes, or None: not an answer (or not this flow's
        campaign). Pure."""

    def keep(self, campaign: Campaign) -> Keep:
        """Which of a subscriber's answers counts."""

    async def counted(self, reply: CampaignReply) -> bool:
        """The answer's effects (a confirmation, a results update, …), each keyed so
        that a provider's retry, which calls this again, repeats none. True: the text
        still goes to the inbox as well."""


class FollowUps(Protocol):
    """A flow that texts a question after an answer (feedback's follow-up): what the
    subscriber writes after it answers the question, is read as no answer, and quotes it."""

    async def asked(self, campaign: Campaign, subscriber: str) -> Message | None: ...


def takes_answers(campaign: Campaign, at: datetime) -> bool:
    return not campaign.closed and campaign.closes_at is not None and at < campaign.closes_at


def quotes(campaign: Campaign, text: Message, at: datetime) -> bool:
    """Whether a reply at `at` is still about the campaign text (its post quotes it)."""
    if campaign.closes_at is not None:
        return takes_answers(campaign, at)
    return at - text.created_at < QUOTE_WINDOW


class CampaignReplies:
    def __init__(
        self,
        store: _Store,
        flows: Sequence[AnswerFlow],
        *,
        on_enqueued: Callable[[], None],
        follow_ups: Sequence[FollowUps] = (),
    ) -> None:
        self._store = store
        self._flows = flows
        self._on_enqueued = on_enqueued
        self._follow_ups = follow_ups

    async def read_reply(self, sms: InboundSms) -> ReplyReading:
        found = await self._store.latest_campaign_text(
            sms.business_number, sms.subscriber, sms.channel
        )
        if found is None:
            return ReplyReading()
        campaign, text = found
        at = sms.received_at
        if not quotes(campaign, text, at):
            return ReplyReading()
        for follow_ups in self._follow_ups:
            if (question := await follow_ups.asked(campaign, sms.subscriber)) is not None:
                return ReplyReading(answers=question.id)
        if takes_answers(campaign, at):
            for flow in self._flows:
                choice = flow.read(campaign, sms.body)
                if choice is not None:
                    to_inbox = await self._count(flow, campaign, text, sms, choice)
                    to_inbox = to_inbox or await self._in_talk(text)
                    return ReplyReading(absorbed=not to_inbox, answers=text.id)
        return ReplyReading(answers=text.id)

    async def _in_talk(self, text: Message) -> bool:
        """Whether a person has written to the subscriber since the campaign text: an
        answer may then be meant for them, so it is shown in the thread as well."""
        recent = await self._store.recent_messages(text.conversation_id, limit=TALK_LOOKBACK)
        return any(
            m.direction is Direction.OUTBOUND and m.author and m.created_at > text.created_at
            for m in recent
        )

    async def _count(
        self, flow: AnswerFlow, campaign: Campaign, text: Message, sms: InboundSms, choice: str
    ) -> bool:
        answer = Answer(
            campaign_id=campaign.id,
            subscriber=sms.subscriber,
            choice=choice,
            text=sms.body,
            sid=sms.sid,
            at=sms.received_at,
        )
        # The results message follows every answer, in the same write (a burst of
        # answers is one pending job; for a campaign without results it does nothing).
        changed = await self._store.record_answer(
            answer, keep=flow.keep(campaign), jobs=[campaign_results_job(campaign.id)]
        )
        self._on_enqueued()
        return await flow.counted(CampaignReply(campaign, text, sms, answer, changed))
