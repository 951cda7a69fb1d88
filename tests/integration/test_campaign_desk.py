"""The campaign desk and pump over a real store, on a fake clock: what a plan says,
what creating stores, who is skipped and why, the pace of queueing, quiet hours,
pause, resume and cancel."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bridge.campaign_settings import CampaignsSection
from bridge.campaigns.desk import CampaignDesk
from bridge.campaigns.errors import CampaignError
from bridge.campaigns.models import (
    Audience,
    CampaignKind,
    CampaignSpec,
    CampaignState,
    Feedback,
    OptInRequest,
    Poll,
    RecipientState,
    Segment,
)
from bridge.campaigns.pump import CampaignPump
from bridge.config import Business
from bridge.delivery.errors import RetryLater
from bridge.models import (
    ConsentKind,
    Contact,
    InboundSms,
    Job,
    JobKind,
    MessagePurpose,
    utcnow,
)
from bridge.routing_settings import RoutingSection, Team
from bridge.store.base import Store
from bridge.store.sqlite import SQLiteStore
from bridge.threading.sending import ReplySender, Sender
from tests.campaign_support import NOON, Base, number
from tests.support import NoMentions, bounded

BUSINESS = "+14155550100"
SEGMENTS = {
    "regulars": Segment(tags=("Regulars",)),
    "oakland": Segment(fields={"City": "oakland"}),
    "marketing": Segment(consent=ConsentKind.MARKETING),
    "nobody": Segment(tags=("ghosts",)),
}


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = SQLiteStore(tmp_path / "bridge.db")
    await opened.open()
    yield opened
    await bounded(opened.close())


@pytest.fixture
async def base(store: Store) -> Base:
    subscribers = Base(BUSINESS)
    await subscribers.store_in(store)
    return subscribers


@pytest.fixture
def clock() -> Clock:
    return Clock(NOON)


def desk(store: Store, clock: Clock, *, rate: float = 5) -> CampaignDesk:
    return CampaignDesk(
        store,
        Business(name="Harbor Bakery", timezone="America/Los_Angeles"),
        CampaignsSection(segments=SEGMENTS),
        rate=rate,
        on_enqueued=lambda: None,
        clock=clock,
    )


def pump(store: Store, clock: Clock, *, rate: float = 5) -> CampaignPump:
    business = Business(name="Harbor Bakery", timezone="America/Los_Angeles")
    return CampaignPump(store, business, rate=rate, on_enqueued=lambda: None, clock=clock)


def spec(**changes: object) -> CampaignSpec:
    fields: dict[str, object] = {
        "name": "spring",
        "from_number": BUSINESS,
        "to": Audience(segment="regulars"),
        "text": "Hi {first_name}! Fresh bread in {city} today.",
    }
    return CampaignSpec.model_validate(fields | changes)


async def run_pump(store: Store, clock: Clock, campaign_id: str, *, rate: float = 5) -> int:
    """Run the pump job as the outbox would until it ends; how many runs it took."""
    handler = pump(store, clock, rate=rate)
    runs = 0
    while True:
        [job] = [
            j
            for j in await store.claim_jobs("w", now=clock.now, limit=50, lease_seconds=30)
            if j.kind is JobKind.CAMPAIGN_PUMP and j.note == campaign_id
        ]
        runs += 1
        try:
            await handler(job)
        except RetryLater as exc:
            clock.now += timedelta(seconds=exc.after or 0)
            await store.retry_job(job, run_at=clock.now, error=str(exc), counted=False)
            continue
        await store.complete_job(job)
        return runs


async def send_times(store: Store) -> list[float]:
    """When each send job is due (read from SQLite's table: claiming would lease them)."""
    assert isinstance(store, SQLiteStore)
    rows = await store.db.execute_fetchall(
        "SELECT run_at FROM jobs WHERE kind = 'send_sms' ORDER BY run_at"
    )
    return [row[0] for row in rows]


async def sends_due(store: Store, now: datetime) -> list[Job]:
    """Claim the send jobs due by `now`."""
    jobs = await store.claim_jobs("w", now=now, limit=500, lease_seconds=60)
    return [job for job in jobs if job.kind is JobKind.SEND_SMS]


async def test_a_plan_counts_who_gets_it_and_why_not_and_writes_nothing(
    store: Store, base: Base, clock: Clock
) -> None:
    plan = await desk(store, clock).plan(spec())

    assert plan.recipients == 35
    assert plan.excluded == {"opted out": 10, "no marketing consent": 5}
    assert [c.phone for c in plan.chosen] == base.phones
    assert plan.sample is not None
    assert plan.sample.text == "Hi Pat5! Fresh bread in Oakland today."
    assert (plan.sample.cost.encoding.value, plan.sample.cost.segments) == ("GSM-7", 1)
    assert plan.segments == 35
    assert plan.duration == timedelta(seconds=7)  # 35 at 5 a second
    assert plan.later == 0  # 14:00 in California
    assert await store.list_campaigns() == []


@pytest.mark.parametrize(
    ("changes", "names"),
    [
        ({"text": "Hi {nickname}"}, "{nickname}"),
        ({"to": Audience(segment="nobody")}, "matches nobody"),
        ({"to": Audience(segment="vip")}, "to.segment"),
        ({"send_at": NOON - timedelta(minutes=1)}, "send_at"),
        ({"poll": Poll(options={"A": "Mango"})}, "poll.options"),
        ({"poll": Poll(options={"A": "Mango", "a": "Apple"})}, "letter A"),
        (
            {"poll": Poll(options={"A": "x", "B": "y"}), "opt_in": {"keyword": "YES"}},
            "poll and opt_in",
        ),
        # The texts a reply gets back name only what is filled in for them.
        (
            {"poll": Poll(options={"A": "x", "B": "y"}, confirm="You chose {label}, {nickname}")},
            "poll.confirm: unknown placeholder {nickname}",
        ),
        ({"feedback": Feedback(follow_up="Sorry {nickname}")}, "feedback.follow_up: unknown"),
        ({"feedback": Feedback(confirm="Thanks {choice}")}, "feedback.confirm: unknown"),
        (
            {"feedback": Feedback(review_link="https://r.example", review_text="Go {link}")},
            "feedback.review_text: unknown placeholder {link}",
        ),
        ({"feedback": Feedback(route="billing")}, "feedback.route: no routing team 'billing'"),
        (
            {"opt_in": OptInRequest(confirm="You're in, {nickname}!")},
            "opt_in.confirm: unknown placeholder {nickname}",
        ),
    ],
)
async def test_a_campaign_that_cannot_go_out_is_refused_with_one_line(
    store: Store, base: Base, clock: Clock, changes: dict[str, object], names: str
) -> None:
    with pytest.raises(CampaignError) as refused:
        await desk(store, clock).create(spec(**changes), by="cli")
    assert names in str(refused.value)
    assert "\n" not in str(refused.value)
    assert await store.list_campaigns() == []


async def test_reply_texts_may_name_what_they_are_filled_with_and_a_route_a_team(
    store: Store, base: Base, clock: Clock
) -> None:
    routed = CampaignDesk(
        store,
        Business(name="Harbor Bakery", timezone="America/Los_Angeles"),
        CampaignsSection(segments=SEGMENTS),
        rate=5,
        on_enqueued=lambda: None,
        clock=clock,
        routing=RoutingSection(teams={"Support": Team(channel="C0SUPPORT")}),
    )
    poll = Poll(options={"A": "x", "B": "y"}, confirm="You chose {choice}: {label}")
    feedback = Feedback(
        review_link="https://r.example",
        follow_up="Sorry, {first_name}: what went wrong?",
        confirm="Thanks from {business_name}",
        route="support",
    )

    assert (await routed.plan(spec(poll=poll))).recipients == 35
    assert (await routed.plan(spec(feedback=feedback))).recipients == 35


async def test_segments_filter_by_tags_fields_consent_and_activity(
    store: Store, base: Base, clock: Clock
) -> None:
    await store.put_contact(Contact(phone=number(99), name="Sam", fields={"city": "Fresno"}))
    active = await store.record_inbound(sms_from(number(99), at=NOON - timedelta(days=2)))
    planner = desk(store, clock)

    oakland = await planner.plan(spec(to=Audience(segment="oakland")))
    marketing = await planner.plan(spec(to=Audience(segment="marketing")))
    recent = CampaignsSection(
        segments={"recent": Segment(active_within_days=7, business_number=BUSINESS)}
    )
    recent_desk = CampaignDesk(
        store,
        Business(),
        recent,
        rate=1,
        on_enqueued=lambda: None,
        clock=clock,
    )
    lately = await recent_desk.plan(spec(to=Audience(segment="recent"), text="Hi"))

    assert len(oakland.chosen) == 50  # field values compare case-insensitively
    assert [c.phone for c in marketing.chosen] == base.phones[5:]
    assert [c.phone for c in lately.chosen] == [active.conversation.subscriber]


def sms_from(phone: str, *, at: datetime) -> InboundSms:
    return InboundSms(
        sid=f"SM{phone}", business_number=BUSINESS, subscriber=phone, body="hi", received_at=at
    )


async def test_sending_queues_exactly_the_35_who_may_get_it_one_second_at_a_time(
    store: Store, base: Base, clock: Clock
) -> None:
    campaign = await desk(store, clock).create(spec(), by="cli")

    runs = await run_pump(store, clock, campaign.id, rate=5)

    recipients = await store.campaign_recipients(campaign.id)
    queued = [r.subscriber for r in recipients if r.state is RecipientState.QUEUED]
    skipped = {r.subscriber: r.reason for r in recipients if r.state is RecipientState.SKIPPED}
    assert queued == base.may_get_marketing
    assert set(skipped.values()) == {"opted out", "no marketing consent"}
    assert len(skipped) == 15
    assert runs == 11  # 50 recipients, 5 a run: ten full runs and the one that ends it
    done = await store.get_campaign(campaign.id)
    assert done is not None
    assert done.state is CampaignState.DONE
    # The texts are due one fifth of a second apart from the start: the sender's pace.
    due = await send_times(store)
    assert len(due) == 35
    assert due[0] == NOON.timestamp()
    assert {round(later - earlier, 6) for earlier, later in itertools.pairwise(due)} == {0.2}
    message = await store.get_message(f"campaign:{campaign.id}:{base.may_get_marketing[0]}")
    assert message is not None
    assert message.purpose is MessagePurpose.MARKETING
    progress = await store.campaign_progress(campaign.id)
    assert (progress.queued, progress.skipped, progress.pending) == (35, 15, 0)


async def test_marketing_at_22_00_recipient_time_waits_until_08_00(
    store: Store, base: Base, clock: Clock
) -> None:
    clock.now = datetime(2026, 3, 3, 6, 0, tzinfo=UTC)  # 22:00 in California
    campaign = await desk(store, clock).create(spec(), by="cli")
    await run_pump(store, clock, campaign.id, rate=100)

    eight = datetime(2026, 3, 3, 16, 0, tzinfo=UTC)  # 08:00 in California
    assert await sends_due(store, eight - timedelta(seconds=1)) == []
    assert len(await sends_due(store, eight)) == 35


async def test_a_support_notice_needs_only_conversational_consent(
    store: Store, base: Base, clock: Clock
) -> None:
    notice = spec(kind=CampaignKind.SUPPORT, text="We are closed Monday.")
    clock.now = datetime(2026, 3, 3, 6, 0, tzinfo=UTC)  # 22:00: a notice does not wait
    campaign = await desk(store, clock).create(notice, by="cli")
    await run_pump(store, clock, campaign.id, rate=100)

    sends = await sends_due(store, clock.now + timedelta(seconds=1))
    assert len(sends) == 40
    message = await store.get_message(sends[0].message_id or "")
    assert message is not None
    assert message.purpose is MessagePurpose.NOTICE


async def test_pause_stops_the_pump_and_resume_continues_it(
    store: Store, base: Base, clock: Clock
) -> None:
    planner = desk(store, clock)
    campaign = await planner.create(spec(), by="cli")
    handler = pump(store, clock)
    [job, *_] = await store.claim_jobs("w", now=clock.now, limit=10, lease_seconds=30)
    with pytest.raises(RetryLater):
        await handler(job)  # the first second's worth
    await store.retry_job(job, run_at=clock.now, error="", counted=False)

    paused = await planner.pause(campaign.id, by="U1")
    [job] = await store.claim_jobs("w", now=clock.now, limit=10, lease_seconds=30)
    with pytest.raises(RetryLater, match="paused"):
        await handler(job)
    await store.retry_job(job, run_at=clock.now, error="", counted=False)
    assert paused.state is CampaignState.PAUSED
    assert (await store.campaign_progress(campaign.id)).pending == 45
    with pytest.raises(CampaignError, match="paused"):
        await planner.pause(campaign.id, by="U1")

    resumed = await planner.resume(campaign.id, by="U1")
    assert resumed.state is CampaignState.SENDING
    await run_pump(store, clock, campaign.id)
    assert (await store.campaign_progress(campaign.id)).pending == 0


async def test_cancel_stops_the_pump_and_cancels_queued_texts(
    store: Store, base: Base, clock: Clock
) -> None:
    planner = desk(store, clock)
    campaign = await planner.create(spec(), by="cli")
    handler = pump(store, clock)
    [job, *_] = await store.claim_jobs("w", now=clock.now, limit=10, lease_seconds=30)
    with pytest.raises(RetryLater):
        await handler(job)
    await store.retry_job(job, run_at=clock.now, error="", counted=False)

    await planner.cancel(campaign.id, by="U1")

    progress = await store.campaign_progress(campaign.id)
    assert (progress.queued, progress.pending) == (0, 45)
    await run_pump(store, clock, campaign.id)
    assert (await store.campaign_progress(campaign.id)).pending == 45
    with pytest.raises(CampaignError, match="cancelled"):
        await planner.resume(campaign.id, by="U1")


class Phone:
    """Twilio accepting every text, counted."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    def wait_for(self, sender: Sender) -> float:
        return 0.0

    async def send(self, to: str, sender: Sender, body: str) -> str:
        self.sent.append(to)
        return f"SM{len(self.sent)}"

    async def find_sent(self, to: str, sender: Sender, body: str, since: datetime) -> list[str]:
        return []


async def test_a_paused_campaigns_queued_texts_wait_and_a_cancelled_ones_never_go(
    store: Store, base: Base
) -> None:
    clock = Clock(utcnow())  # the sender's own checks read the real clock
    planner = desk(store, clock)
    notice = spec(kind=CampaignKind.SUPPORT, text="Closed Monday.")  # no quiet hours
    first = await planner.create(notice, by="cli")
    await run_pump(store, clock, first.id, rate=100)
    second = await planner.create(notice, by="cli")
    await run_pump(store, clock, second.id, rate=100)
    sends = await sends_due(store, clock.now + timedelta(hours=1))
    phone = Phone()
    sender = ReplySender(
        store, phone, NoMentions(), messaging_service_sid=None, on_enqueued=lambda: None
    )
    await planner.pause(first.id, by="U1")
    await planner.cancel(second.id, by="U1")

    for job in sends:
        message = await store.get_message(job.message_id or "")
        assert message is not None
        if message.campaign_id == first.id:
            with pytest.raises(RetryLater, match="paused"):
                await sender(job)
        else:
            await sender(job)  # cancelled already: nothing to send

    assert phone.sent == []
    await planner.resume(first.id, by="U1")
    for job in sends[:3]:
        await sender(job)
    assert len(phone.sent) == 3


async def test_close_ends_a_polls_answers_now_once_and_only_for_a_campaign_that_takes_them(
    store: Store, base: Base, clock: Clock
) -> None:
    planner = desk(store, clock)
    poll = Poll(options={"A": "Rye", "B": "Spelt"})
    early = await planner.create(spec(name="not yet", poll=poll), by="cli")
    with pytest.raises(CampaignError, match="not started"):
        await planner.close(early.id, by="U1")  # nothing asked yet: cancel it instead
    await planner.cancel(early.id, by="U1")

    campaign = await planner.create(spec(poll=poll), by="cli")
    await run_pump(store, clock, campaign.id)
    await planner.close(campaign.id, by="U1")
    due = await store.claim_jobs("w", now=clock.now, limit=500, lease_seconds=30)
    closes = [job for job in due if job.kind is JobKind.CLOSE_CAMPAIGN]
    assert [job.note for job in closes] == [campaign.id]  # now, not at closes_at
    await store.close_campaign(campaign.id)  # what that job does first
    with pytest.raises(CampaignError, match="closed already"):
        await planner.close(campaign.id, by="U1")

    plain = await planner.create(spec(name="news"), by="cli")
    await run_pump(store, clock, plain.id)
    with pytest.raises(CampaignError, match="takes no answers"):
        await planner.close(plain.id, by="U1")
