"""Job CAMPAIGN_PROGRESS: a campaign's one progress message, posted once (exactly once
across crashes, through `SlackPosts`) and then kept current at a bounded rate.

The job runs again by itself (a throttled retry, so it keeps its key and coalesces
whatever else enqueues it) while the campaign runs or texts of it are still to be sent
(for a bounded settle time after it ended); later, each text's final delivery receipt
enqueues it again."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any, Protocol

from bridge.campaigns.models import Campaign, CampaignState, Progress
from bridge.delivery.errors import GiveUp, RetryLater
from bridge.jobs import home_job
from bridge.models import Job, utcnow
from bridge.slack.blocks.campaign_progress import progress_message
from bridge.slack.gateway import SlackGateway, ThreadGone
from bridge.slack.posts import SlackPosts
from bridge.store.base import CampaignStore, JobStore

UPDATE_SECONDS = 5.0  # at most one chat.update a campaign this often
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
        self._posts = posts
        self._gateway = gateway
        self._channel = channel
        self._rate = rate
        self._clock = clock
        # By campaign: when its message was last written here, and what it showed.
        self._shown: dict[str, tuple[float, str]] = {}
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
        rendered = json.dumps([text, blocks], sort_keys=True)
        if campaign.progress_ts is None:
            channel = campaign.slack_channel or self._channel
            posted = await self._posts.post(post_key(campaign_id), channel, text, blocks=blocks)
            await self._store.set_campaign_slack(
                campaign_id, channel=posted.channel, progress_ts=posted.ts
            )
            self._shown[campaign_id] = (self._clock(), rendered)
        else:
            await self._update(campaign, text, blocks, rendered)
        if self._home_state.get(campaign_id) is not campaign.state:
            await self._store.enqueue(home_job(), run_at=utcnow())
            self._home_state[campaign_id] = campaign.state
        if may_move(campaign, progress):
            raise RetryLater("the campaign is still moving", after=UPDATE_SECONDS, throttled=True)
        self._shown.pop(campaign_id, None)
        self._home_state.pop(campaign_id, None)

    async def _update(
        self, campaign: Campaign, text: str, blocks: list[dict[str, Any]], rendered: str
    ) -> None:
        last, shown = self._shown.get(campaign.id, (None, ""))
        if shown == rendered:
            return  # nothing changed: no call
        if last is not None and (wait := last + UPDATE_SECONDS - self._clock()) > 0:
            raise RetryLater("paced: the progress message", after=wait, throttled=True)
        channel, ts = campaign.slack_channel or self._channel, campaign.progress_ts or ""
        try:
            await self._gateway.update_message(channel, ts, text, blocks)
        except ThreadGone:
            return  # someone deleted the message: the campaign goes on without it
        self._shown[campaign.id] = (self._clock(), rendered)
