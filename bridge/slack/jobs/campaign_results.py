"""Jobs CAMPAIGN_RESULTS and CLOSE_CAMPAIGN: a poll's one results message, posted once
(exactly once across crashes, through `SlackPosts`) on its first answer and kept
current at most once per UPDATE_SECONDS; at the close, the final render and the bar
chart in its thread, once.

The pace is kept per process (one dict of when each message was last written): a
paced run is a throttled retry, which keeps its key, so every answer arriving
meanwhile coalesces into it."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

from bridge.campaigns.models import Campaign, Poll
from bridge.campaigns.poll_results import results_chart
from bridge.delivery.errors import GiveUp
from bridge.models import Job
from bridge.slack.blocks.campaign_results import results_message
from bridge.slack.gateway import SlackGateway
from bridge.slack.jobs.live_messages import LiveMessages
from bridge.slack.posts import SlackPosts
from bridge.store.base import AnswerStore, CampaignStore


class _Store(CampaignStore, AnswerStore, Protocol):
    """The store roles this module uses."""


def post_key(campaign_id: str) -> str:
    return f"campaign-results:{campaign_id}"


def chart_key(campaign_id: str) -> str:
    return f"campaign-chart:{campaign_id}"


class ResultsMessage:
    """Renders a poll's results message: posts it, or updates it at a bounded rate."""

    def __init__(
        self,
        store: _Store,
        posts: SlackPosts,
        gateway: SlackGateway,
        *,
        channel: str,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`channel`: where a campaign without its own channel shows its results."""
        self._store = store
        self._live = LiveMessages(posts, gateway, clock=clock)
        self._channel = channel

    async def campaign(self, job: Job) -> tuple[Campaign, Poll] | None:
        campaign_id = job.note or ""
        campaign = await self._store.get_campaign(campaign_id)
        if campaign is None:
            raise GiveUp(f"campaign {campaign_id!r} is not in the store")
        poll = campaign.spec.poll
        return None if poll is None else (campaign, poll)

    async def render(self, campaign: Campaign, poll: Poll) -> tuple[str, str]:
        """Show the current tally; where the message is (channel, ts)."""
        tally = await self._store.tally(campaign.id)
        text, blocks = results_message(campaign, poll, tally)
        channel = campaign.slack_channel or self._channel
        ts = campaign.results_ts
        placed = await self._live.show(post_key(campaign.id), channel, ts, text, blocks)
        if placed is None:
            return channel, ts or ""
        await self._store.set_campaign_slack(campaign.id, channel=placed[0], results_ts=placed[1])
        return placed


class CampaignResultsPost:
    """CAMPAIGN_RESULTS: enqueued by every counted answer (one pending job per poll)."""

    def __init__(self, results: ResultsMessage) -> None:
        self._results = results

    async def __call__(self, job: Job) -> None:
        found = await self._results.campaign(job)
        if found is not None:
            await self._results.render(*found)


class CampaignClose:
    """CLOSE_CAMPAIGN: due when the answers' window ends. Closes it (answers after it
    are ordinary texts), renders the final results and uploads their chart, once."""

    def __init__(self, store: _Store, results: ResultsMessage, posts: SlackPosts) -> None:
        self._store = store
        self._results = results
        self._posts = posts

    async def __call__(self, job: Job) -> None:
        await self._store.close_campaign(job.note or "")  # None: closed before (a retry)
        found = await self._results.campaign(job)
        if found is None:
            return  # feedback or an opt-in request: nothing to show here
        campaign, poll = found
        channel, ts = await self._results.render(campaign, poll)
        tally = await self._store.tally(campaign.id)
        if tally.total == 0:
            return  # a chart of nothing says no more than the message
        chart = results_chart(campaign.spec.name, poll, tally)
        await self._posts.upload(
            chart_key(campaign.id), channel, ts, filename=f"poll-{campaign.id}.png", content=chart
        )
