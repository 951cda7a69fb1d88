"""A campaign's progress message, with the real slack_sdk client against the Slack
emulator and a real store: posted once (also across a crash after the post), then
updated at most once per 5 s (a fake clock: no sleeps), until the campaign settles."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bridge.campaigns.models import Audience, Campaign, CampaignSpec, CampaignState
from bridge.delivery.errors import RetryLater
from bridge.delivery.pacing import Pacer, Rate
from bridge.jobs import campaign_progress_job
from bridge.metrics import Metrics
from bridge.models import (
    DeliveryStatus,
    Direction,
    Job,
    JobKind,
    Message,
    MessagePurpose,
    utcnow,
)
from bridge.sandbox.slack_emulator import SlackEmulator
from bridge.slack.gateway import SlackGateway
from bridge.slack.jobs.campaign_progress import UPDATE_SECONDS, CampaignProgressPost
from bridge.slack.posts import SlackPosts
from bridge.store.sqlite import SQLiteStore
from bridge.threading.outbound import mark_delivery
from tests.support import BUSINESS, INBOX, bounded

PEOPLE = [f"+1555123{n:04d}" for n in range(1, 21)]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Killed(Exception):
    """The process died before this write."""


class CrashingStore(SQLiteStore):
    crash_slack_write = 0

    async def set_campaign_slack(
        self,
        campaign_id: str,
        *,
        channel: str,
        progress_ts: str | None = None,
        results_ts: str | None = None,
    ) -> None:
        if self.crash_slack_write:
            self.crash_slack_write -= 1
            raise Killed("died after the post, before storing its ts")
        await super().set_campaign_slack(
            campaign_id, channel=channel, progress_ts=progress_ts, results_ts=results_ts
        )


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[CrashingStore]:
    store = CrashingStore(tmp_path / "bridge.db")
    await store.open()
    yield store
    await bounded(store.close())


@pytest.fixture
async def client(slack: SlackEmulator) -> AsyncIterator[AsyncWebClient]:
    async with aiohttp.ClientSession() as session:
        yield AsyncWebClient(token=slack.token, base_url=f"{slack.base_url}/api/", session=session)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def progress_post(
    client: AsyncWebClient, store: CrashingStore, clock: Clock
) -> CampaignProgressPost:
    """The handler as one process has it (a new call: a restarted process)."""
    gateway = SlackGateway(client, Pacer(lambda _key: Rate(1000, 100)), Metrics())
    posts = SlackPosts(store, gateway, echo_wait=1)
    return CampaignProgressPost(store, posts, gateway, channel=INBOX, rate=10, clock=clock)


def job(campaign_id: str) -> Job:
    new = campaign_progress_job(campaign_id)
    return Job(
        key=new.key,
        kind=new.kind,
        lane=new.lane,
        note=new.note,
        attempts=1,
        lease_token="t",
        created_at=utcnow(),
    )


async def started(store: CrashingStore, campaign_id: str = "c1") -> None:
    spec = CampaignSpec(
        name="flavor-poll", from_number=BUSINESS, to=Audience(tags=("regulars",)), text="Hi"
    )
    campaign = Campaign(
        id=campaign_id,
        spec=spec,
        state=CampaignState.SCHEDULED,
        created_by="cli",
        created_at=utcnow(),
    )
    assert await store.create_campaign(campaign, PEOPLE)
    assert await store.start_campaign(campaign_id, at=utcnow(), closes_at=None)


async def run(handler: CampaignProgressPost, campaign_id: str = "c1") -> float | None:
    """Run the job once: when it asks to run again (None: it is finished)."""
    try:
        await handler(job(campaign_id))
    except RetryLater as again:
        throttled, after = again.throttled, again.after
    else:
        return None
    assert throttled  # pacing, never a failure that could make the job dead
    return after


async def home_refreshes(store: CrashingStore) -> int:
    """App Home refreshes waiting (each claimed, so the next change enqueues anew)."""
    claimed = await store.claim_jobs("test", now=utcnow(), limit=50, lease_seconds=30)
    homes = [job for job in claimed if job.kind is JobKind.REFRESH_HOME]
    for job in claimed:
        await store.complete_job(job)
    return len(homes)


def posts_of(slack: SlackEmulator) -> list[str]:
    return [m.ts for m in slack.messages(INBOX)]


async def test_posted_once_then_updated_at_most_once_per_5_seconds(
    slack: SlackEmulator, client: AsyncWebClient, store: CrashingStore, clock: Clock
) -> None:
    await started(store)
    handler = progress_post(client, store, clock)
    assert await run(handler) == UPDATE_SECONDS
    [ts] = posts_of(slack)
    campaign = await store.get_campaign("c1")
    assert campaign is not None
    assert (campaign.slack_channel, campaign.progress_ts) == (INBOX, ts)
    blocks = json.dumps(slack.message(INBOX, ts).blocks)  # type: ignore[union-attr]
    assert "campaign_pause" in blocks
    assert "campaign_cancel" in blocks

    # Every second a recipient is skipped, for 20 s: the message follows at most
    # once per 5 s, and never posts again.
    start = clock.now
    for subscriber in PEOPLE[:20]:
        clock.now += 1
        assert await store.skip_recipient("c1", subscriber, "no marketing consent")
        await run(handler)
    updates = slack.calls_to("chat.update")
    assert 1 <= len(updates) <= (clock.now - start) / UPDATE_SECONDS
    assert posts_of(slack) == [ts]
    assert await run(handler) is not None  # still SENDING: the pump finishes it

    # Unchanged, a run costs no call.
    clock.now += 60
    await run(handler)
    changed = len(slack.calls_to("chat.update"))
    clock.now += 60
    await run(handler)
    assert len(slack.calls_to("chat.update")) == changed

    # Done and nothing in flight: a last update without buttons, and the job ends; App
    # Home's Campaigns tab is republished for the new state (not for every count).
    assert await home_refreshes(store) == 1  # when the message first showed the campaign
    assert await store.finish_campaign("c1", at=utcnow())
    clock.now += UPDATE_SECONDS
    assert await run(handler) is None
    assert await home_refreshes(store) == 1
    final = slack.message(INBOX, ts)
    assert final is not None
    assert "campaign_pause" not in json.dumps(final.blocks)
    assert "20 skipped" in final.text or "skipped 20" in json.dumps(final.blocks)


async def test_a_crash_after_the_post_never_posts_twice(
    slack: SlackEmulator, client: AsyncWebClient, store: CrashingStore, clock: Clock
) -> None:
    await started(store)
    store.crash_slack_write = 1
    with pytest.raises(Killed):
        await progress_post(client, store, clock)(job("c1"))
    assert len(posts_of(slack)) == 1

    # The restarted process finds the landed post and only stores where it is.
    assert await run(progress_post(client, store, clock)) is not None
    [ts] = posts_of(slack)
    campaign = await store.get_campaign("c1")
    assert campaign is not None
    assert campaign.progress_ts == ts
    await run(progress_post(client, store, clock))
    assert posts_of(slack) == [ts]


async def test_once_sent_it_stops_and_a_final_receipt_brings_it_round(
    client: AsyncWebClient, store: CrashingStore, clock: Clock
) -> None:
    await started(store)
    conversation = await store.open_conversation(BUSINESS, PEOPLE[0])
    text = Message(
        id="campaign:c1:1",
        conversation_id=conversation.id,
        direction=Direction.OUTBOUND,
        body="Hi",
        created_at=utcnow(),
        status=DeliveryStatus.QUEUED,
        purpose=MessagePurpose.MARKETING,
        campaign_id="c1",
    )
    assert await store.queue_campaign_text(text, PEOPLE[0], send_at=utcnow())
    for subscriber in PEOPLE[1:]:
        await store.skip_recipient("c1", subscriber, "no marketing consent")
    assert await store.finish_campaign("c1", at=utcnow())
    await store.claim_jobs("test", now=utcnow(), limit=50, lease_seconds=30)  # the send job
    handler = progress_post(client, store, clock)
    assert await run(handler) is not None  # its text is still to be sent
    assert await store.begin_send(text.id) is not None
    await store.finish_send(text.id, DeliveryStatus.SENT, sid="SM1")
    clock.now += UPDATE_SECONDS
    assert await run(handler) is None  # sent: only receipts can move it now, and they say so

    # Its delivery receipt (a final state) enqueues the progress job, not a Slack mark.
    delivered = await store.update_delivery("SM1", DeliveryStatus.DELIVERED, None)
    assert delivered is not None
    await mark_delivery(store, delivered, None)
    claimed = await store.claim_jobs("test", now=utcnow(), limit=50, lease_seconds=30)
    assert JobKind.CAMPAIGN_PROGRESS in {job.kind for job in claimed}
    assert JobKind.MARK_DELIVERY not in {job.kind for job in claimed}
