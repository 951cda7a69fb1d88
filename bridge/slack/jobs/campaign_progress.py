"""Job CAMPAIGN_PROGRESS: a campaign's one progress message, posted once (exactly once
across crashes, through `SlackPosts`) and then kept current at a bounded rate.

The job runs again by itself (a throttled retry, so it keeps its key and coalesces
whatever else enqueues it) while the campaign runs or texts of it are still to be sent
(for a bounded settle time after it ended); later, each text's final delivery receipt
enqueues it again."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from typing import Protocol

from bridge.campaigns.models import Campaign, CampaignState, Progress
from bridge.delivery.errors import GiveUp, RetryLater
from bridge.jobs import home_job
from bridge.models import Job, utcnow
from bridge.slack.blocks.campaign_progress import progress_message
from bridge.slack.gateway import SlackGateway
from bridge.slack.jobs.live_messages import UPDATE_SECONDS, LiveMessages
from bridge.slack.posts import SlackPosts
from bridge.store.base import CampaignStore, JobStore

# Texts the sender still holds after the campaign ended (quiet hours, a paced backlog)
# are looked at this long; their receipts bring the job round again later.
SETTLE = timedelta(minutes=10)


class _Store(CampaignStore, JobStore, Protocol):
    """The store roles this module uses."""


def post_key(campaign_id: str) -> str:
    return f"campaign-progress:{campaign_id}"


def may_move(campaign: Campaign, progress: Progress) -> bool:
    """Whether the campaign's counts may still change by sending (a text's final
    delivery receipt enqueues this job itself: `threading.outbound.mark_delivery`)."""
    if campaign.state.running:
        return True
    ended = campaign.finished_at or campaign.started_at or campaign.created_at
    return progress.queued > 0 and utcnow() < ended + SETTLE


class CampaignProgressPost:
    def __init__(
        self,
        store: _Store,
        posts: SlackPosts,
        gateway: SlackGateway,
        *,
        channel: str,
        rate: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`channel`: where a campaign without its own channel is shown; `rate`: the
        sender's texts a second (for the time left)."""
        self._store = store
        self._live = LiveMessages(posts, gateway, clock=clock)
        self._channel = channel
        self._rate = rate
        # By campaign: the state App Home was last refreshed for (not every count: each
        # refresh republishes every viewer's Home).
        self._home_state: dict[str, CampaignState] = {}

    async def __call__(self, job: Job) -> None:
        campaign_id = job.note or ""
        campaign = await self._store.get_campaign(campaign_id)
        if campaign is None:
            raise GiveUp(f"campaign {campaign_id!r} is not in the store")
        progress = await self._store.campaign_progress(campaign_id)
        text, blocks = progress_message(campaign, progress, rate=self._rate)
        channel = campaign.slack_channel or self._channel
        key = post_key(campaign_id)
        placed = await self._live.show(key, channel, campaign.progress_ts, text, blocks)
        if placed is not None:
            await self._store.set_campaign_slack(
                campaign_id, channel=placed[0], progress_ts=placed[1]
            )
        if self._home_state.get(campaign_id) is not campaign.state:
            await self._store.enqueue(home_job(), run_at=utcnow())
            self._home_state[campaign_id] = campaign.state
        if may_move(campaign, progress):
            raise RetryLater("the campaign is still moving", after=UPDATE_SECONDS, throttled=True)
        self._live.forget(key)
        self._home_state.pop(campaign_id, None)
