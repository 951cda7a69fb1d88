"""The CAMPAIGN_PUMP job: each run queues the next second's worth of a campaign's
recipients at the sender's rate, each in one write (its text and send job, or why it
is skipped), then comes round again; so thousands of texts never sit in front of the
inbox's own jobs. The sender (`threading/sending.py`) sends each once, checks consent
again and paces; the pump only spreads the texts' due times at that pace."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

from bridge.campaigns.audience import Chosen, judge
from bridge.campaigns.models import Campaign, CampaignKind, CampaignState, Recipient
from bridge.compliance.quiet_hours import next_allowed
from bridge.config import Business
from bridge.delivery.errors import RetryLater
from bridge.jobs import close_campaign_job
from bridge.models import (
    DeliveryStatus,
    Direction,
    Job,
    Message,
    MessagePurpose,
    utcnow,
)
from bridge.store.base import CampaignStore, ConsentStore, ContactStore, ConversationStore

# A pump that finds its campaign missing: MongoDB stores the job before the campaign.
MISSING_PATIENCE = 5
# How often a paused campaign's pump looks whether it was resumed or cancelled.
PAUSED_POLL_SECONDS = 2.0
# The pump comes round while this much of the queued texts' time is still ahead, so
# the sender never waits for it (0.5 s lost 6-15 % of the rate at 100/s: bench/RESULTS.md).
LEAD_SECONDS = 2.0


class _Store(CampaignStore, ConsentStore, ContactStore, ConversationStore, Protocol):
    """The store roles this module uses."""


def text_id(campaign_id: str, subscriber: str) -> str:
    """A recipient's text: one id per campaign and subscriber, whatever reruns."""
    return f"campaign:{campaign_id}:{subscriber}"


class CampaignPump:
    def __init__(
        self,
        store: _Store,
        business: Business,
        *,
        rate: float,
        on_enqueued: Callable[[], None],
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._store = store
        self._business = business
        self._rate = rate
        self._batch = max(1, math.ceil(rate))  # one second's worth
        self._on_enqueued = on_enqueued
        self._clock = clock
        # When each campaign's next text is due: its texts follow one another at the
        # rate across runs. Lost with the process, which then starts from now.
        self._next_due: dict[str, datetime] = {}

    async def __call__(self, job: Job) -> None:
        campaign_id = job.note or ""
        campaign = await self._store.get_campaign(campaign_id)
        if campaign is None:
            if job.attempts < MISSING_PATIENCE:
                raise RetryLater("the campaign is still being stored", after=1.0)
            return
        now = self._clock()
        if campaign.state is CampaignState.SCHEDULED:
            campaign = await self._start(campaign, now)
        if campaign.state is CampaignState.PAUSED:
            raise RetryLater("the campaign is paused", after=PAUSED_POLL_SECONDS, throttled=True)
        if campaign.state is not CampaignState.SENDING:
            self._next_due.pop(campaign_id, None)
            return  # cancelled or done
        batch = await self._store.pending_recipients(campaign_id, limit=self._batch)
        due = max(now, self._next_due.get(campaign_id, now))
        due = await self._queue(campaign, batch, due=due)
        self._on_enqueued()
        if len(batch) < self._batch:
            self._next_due.pop(campaign_id, None)
            await self._store.finish_campaign(campaign_id, at=now)
            return
        self._next_due[campaign_id] = due
        ahead = (due - self._clock()).total_seconds()
        raise RetryLater(
            "queueing the next recipients", after=max(0.0, ahead - LEAD_SECONDS), throttled=True
        )

    async def _start(self, campaign: Campaign, now: datetime) -> Campaign:
        """Its answers are taken from now for their window: their close is due then."""
        spec = campaign.spec
        if spec.send_at is not None and spec.send_at > now:
            after = (spec.send_at - now).total_seconds()
            raise RetryLater("the campaign waits for its send time", after=after, throttled=True)
        flow = spec.poll or spec.feedback or spec.opt_in
        closes = None if flow is None else now + timedelta(hours=flow.open_hours)
        jobs = [] if closes is None else [(close_campaign_job(campaign.id), closes)]
        started = await self._store.start_campaign(campaign.id, at=now, closes_at=closes, jobs=jobs)
        return started or await self._store.get_campaign(campaign.id) or campaign

    async def _queue(
        self, campaign: Campaign, batch: list[Recipient], *, due: datetime
    ) -> datetime:
        """Queue each recipient's text, one every 1/rate from `due` (or at 08:00 their
        time, for marketing), or skip them; when the next text is due. The batch's
        conversations are opened, and its texts queued, in one store call each."""
        spec = campaign.spec
        texts: list[tuple[str, str]] = []  # (phone, text)
        for recipient in batch:
            phone = recipient.subscriber
            consent = await self._store.consent_state(spec.from_number, phone, spec.channel)
            contact = await self._store.get_contact(phone)
            text, why = judge(spec, Chosen(phone, contact), consent, self._business)
            if text is None:
                await self._store.skip_recipient(campaign.id, phone, why or "?")
            else:
                texts.append((phone, text))
        if not texts:
            return due
        # Opened with no Slack post and no inbox activity; nor is its text activity.
        conversations = await self._store.open_campaign_conversations(
            spec.from_number, [phone for phone, _ in texts], spec.channel
        )
        marketing = spec.kind is CampaignKind.MARKETING
        step = timedelta(seconds=1 / self._rate)
        queued: list[tuple[Message, str, datetime]] = []
        for phone, text in texts:
            send_at = due
            if marketing:
                send_at = max(due, next_allowed(phone, due, self._business.timezone))
            message = Message(
                id=text_id(campaign.id, phone),
                conversation_id=conversations[phone].id,
                direction=Direction.OUTBOUND,
                body=text,
                created_at=self._clock(),
                status=DeliveryStatus.QUEUED,
                purpose=MessagePurpose.MARKETING if marketing else MessagePurpose.NOTICE,
                campaign_id=campaign.id,
            )
            queued.append((message, phone, send_at))
            due += step
        await self._store.queue_campaign_texts(queued)
        return due
