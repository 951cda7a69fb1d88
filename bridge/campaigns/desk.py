"""The campaign desk: what a campaign would do (`plan`, no writes), starting one
(`create`: its audience stored once, in order, and its pump enqueued), and pausing,
resuming and cancelling it. The CLI and Slack's modal and buttons call it; who may
act is the edge's to check."""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

import structlog

from bridge.campaign_settings import CampaignsSection
from bridge.campaigns.audience import Chosen, choose, judge
from bridge.campaigns.errors import CampaignError
from bridge.campaigns.models import Campaign, CampaignKind, CampaignSpec, CampaignState
from bridge.campaigns.validation import check, known_placeholders
from bridge.compliance.quiet_hours import next_allowed
from bridge.config import Business
from bridge.jobs import campaign_progress_job, campaign_pump_job, close_campaign_job
from bridge.models import utcnow
from bridge.routing_settings import RoutingSection
from bridge.store.base import CampaignStore, ConsentStore, JobStore
from bridge.threading.segments import Cost, cost

log = structlog.get_logger(__name__)

# The states each move starts from.
_PAUSABLE = (CampaignState.SCHEDULED, CampaignState.SENDING)
_CANCELLABLE = (CampaignState.SCHEDULED, CampaignState.SENDING, CampaignState.PAUSED)
# What a move to each state is called (resuming goes back to SENDING or SCHEDULED).
_VERBS = {
    CampaignState.PAUSED: "paused",
    CampaignState.SENDING: "resumed",
    CampaignState.SCHEDULED: "resumed",
    CampaignState.CANCELLED: "cancelled",
}


class _Store(CampaignStore, ConsentStore, JobStore, Protocol):
    """The store roles this module uses."""


@dataclass(frozen=True)
class Sample:
    phone: str
    text: str
    cost: Cost


@dataclass(frozen=True)
class Plan:
    """What a campaign would do if it started now (or at its `send_at`)."""

    spec: CampaignSpec
    chosen: tuple[Chosen, ...]  # the audience, in order: stored as its recipients
    recipients: int  # who would get the text, consent checked now
    excluded: dict[str, int]  # why the others would not → how many
    later: int  # marketing recipients for whom it is outside 08:00-21:00 then: they wait
    segments: int  # SMS segments of every text together
    max_segments: int  # of the longest text
    rate: float  # the sender's texts per second
    sample: Sample | None = None  # the text as the first recipient would get it
    by_encoding: dict[str, int] = field(default_factory=dict)  # encoding → texts

    @property
    def duration(self) -> timedelta:
        return timedelta(seconds=self.recipients / self.rate)


class CampaignDesk:
    def __init__(
        self,
        store: _Store,
        business: Business,
        settings: CampaignsSection,
        *,
        rate: float,
        on_enqueued: Callable[[], None],
        clock: Callable[[], datetime] = utcnow,
        routing: RoutingSection | None = None,
    ) -> None:
        """`routing`: the teams a feedback campaign's `route` may name (None: none)."""
        self._store = store
        self._business = business
        self._settings = settings
        self._rate = rate
        self._on_enqueued = on_enqueued
        self._clock = clock
        self._routing = routing or RoutingSection()

    async def check(self, spec: CampaignSpec) -> None:
        """`CampaignError` for a mistake of the campaign as written, found without
        reading its audience's consent (what `plan` reads for each recipient)."""
        contacts = await self._store.campaign_contacts()
        fields = {name for contact in contacts for name in contact.fields}
        check(spec, known_placeholders(fields), now=self._clock(), routing=self._routing)

    async def plan(self, spec: CampaignSpec) -> Plan:
        """`CampaignError` for a campaign that cannot go out as written."""
        await self.check(spec)
        now = self._clock()
        chosen = await choose(self._store, spec, self._settings.segments, now=now)
        if not chosen:
            raise CampaignError(f"to: {_audience(spec)} matches nobody")
        starts = spec.send_at or now
        excluded: Counter[str] = Counter()
        encodings: Counter[str] = Counter()
        sample: Sample | None = None
        later = segments = longest = 0
        for one in chosen:
            consent = await self._store.consent_state(spec.from_number, one.phone, spec.channel)
            text, why = judge(spec, one, consent, self._business)
            if text is None:
                excluded[why or "?"] += 1
                continue
            price = cost(text)
            sample = sample or Sample(one.phone, text, price)
            encodings[price.encoding.value] += 1
            segments += price.segments
            longest = max(longest, price.segments)
            if (
                spec.kind is CampaignKind.MARKETING
                and next_allowed(one.phone, starts, self._business.timezone) > starts
            ):
                later += 1
        return Plan(
            spec=spec,
            chosen=tuple(chosen),
            recipients=sum(encodings.values()),
            excluded=dict(excluded),
            later=later,
            segments=segments,
            max_segments=longest,
            rate=self._rate,
            sample=sample,
            by_encoding=dict(encodings),
        )

    async def create(self, spec: CampaignSpec, *, by: str, plan: Plan | None = None) -> Campaign:
        """Store the campaign and its audience and enqueue its pump (due at `send_at`);
        `plan`: one made a moment ago (the CLI showed it), not made again."""
        plan = plan or await self.plan(spec)
        if plan.recipients == 0:
            reasons = ", ".join(f"{n} {why}" for why, n in plan.excluded.items())
            raise CampaignError(f"to: nobody in {_audience(spec)} may get it ({reasons})")
        now = self._clock()
        campaign = Campaign(
            id=secrets.token_hex(4),
            spec=spec,
            state=CampaignState.SCHEDULED,
            created_by=by,
            created_at=now,
        )
        jobs = [
            (campaign_pump_job(campaign.id), spec.send_at or now),
            (campaign_progress_job(campaign.id), now),
        ]
        await self._store.create_campaign(campaign, [one.phone for one in plan.chosen], jobs=jobs)
        log.info("campaign.created", campaign=campaign.id, by=by, audience=len(plan.chosen))
        self._on_enqueued()
        return campaign

    async def pause(self, campaign_id: str, *, by: str) -> Campaign:
        """The pump stops queueing; texts queued already wait with it (the sender
        holds them) until `resume`."""
        expect = _PAUSABLE + await self._still_sending(campaign_id)
        return await self._move(campaign_id, CampaignState.PAUSED, expect, by=by)

    async def resume(self, campaign_id: str, *, by: str) -> Campaign:
        current = await self._get(campaign_id)
        state = CampaignState.SENDING if current.started_at else CampaignState.SCHEDULED
        campaign = await self._move(campaign_id, state, (CampaignState.PAUSED,), by=by)
        # The pump polls while paused; this brings it round now (or at send_at).
        await self._store.enqueue(
            campaign_pump_job(campaign_id), run_at=campaign.spec.send_at or self._clock()
        )
        self._on_enqueued()
        return campaign

    async def cancel(self, campaign_id: str, *, by: str) -> Campaign:
        """Nothing more goes out: the pump stops, queued texts are cancelled (a text
        being sent at this moment may still go)."""
        expect = _CANCELLABLE + await self._still_sending(campaign_id)
        campaign = await self._move(campaign_id, CampaignState.CANCELLED, expect, by=by)
        await self._store.cancel_campaign_texts(campaign_id)
        return campaign

    async def close(self, campaign_id: str, *, by: str) -> Campaign:
        """Its answers' window ends now rather than at `closes_at`: the close job (final
        results, chart) runs at once, and later replies are ordinary texts."""
        campaign = await self._get(campaign_id)
        spec = campaign.spec
        if spec.poll is None and spec.feedback is None and spec.opt_in is None:
            raise CampaignError(f"campaign {campaign_id} takes no answers: nothing to close")
        if campaign.closed:
            raise CampaignError(f"campaign {campaign_id} is closed already")
        if campaign.started_at is None:
            raise CampaignError(f"campaign {campaign_id} has not started: cancel it instead")
        await self._store.enqueue(close_campaign_job(campaign_id, early=True), run_at=self._clock())
        log.info("campaign.closing", campaign=campaign_id, by=by)
        self._on_enqueued()
        return campaign

    async def _still_sending(self, campaign_id: str) -> tuple[CampaignState, ...]:
        """DONE, when texts of it are still queued (paced, or waiting for 08:00): it
        can still be paused or cancelled then."""
        progress = await self._store.campaign_progress(campaign_id)
        return (CampaignState.DONE,) if progress.queued else ()

    async def _get(self, campaign_id: str) -> Campaign:
        campaign = await self._store.get_campaign(campaign_id)
        if campaign is None:
            raise CampaignError(f"no campaign {campaign_id!r} (sms-bridge campaign list)")
        return campaign

    async def _move(
        self,
        campaign_id: str,
        state: CampaignState,
        expect: tuple[CampaignState, ...],
        *,
        by: str,
    ) -> Campaign:
        moved = await self._store.set_campaign_state(campaign_id, state, expect=expect)
        if moved is None:
            current = await self._get(campaign_id)
            verb = _VERBS.get(state, state.value)
            raise CampaignError(
                f"campaign {campaign_id} is {current.state.value}: it cannot be {verb}"
            )
        log.info("campaign.moved", campaign=campaign_id, state=state.value, by=by)
        return moved


def _audience(spec: CampaignSpec) -> str:
    """The audience as the file names it."""
    parts = [f"tags {', '.join(spec.to.tags)}"] if spec.to.tags else []
    if spec.to.numbers:
        parts.append(f"{len(spec.to.numbers)} numbers")
    if spec.to.segment:
        parts.append(f"segment {spec.to.segment}")
    return " + ".join(parts) or "an empty audience"
