"""Job REFRESH_HOME: republish the App Home of one viewer, or of every viewer after a
change (coalesced into one job, paced by the gateway: views.publish is Tier 4)."""

from __future__ import annotations

from typing import Any, Protocol

from bridge.ai.learning_desk import LearningDesk
from bridge.config import Business
from bridge.models import Conversation, InboxFilter, Job, utcnow
from bridge.slack.access import InboxAccess
from bridge.slack.blocks.campaigns_home import MAX_CAMPAIGNS, CampaignRow, render_campaigns
from bridge.slack.blocks.home_view import MAX_ROWS, render_home
from bridge.slack.blocks.teach import MAX_LESSONS, lessons_blocks
from bridge.slack.gateway import SlackGateway
from bridge.store.base import (
    AnswerStore,
    AwayStore,
    CampaignStore,
    ContactStore,
    ConversationStore,
    HomeFilterStore,
    PreferenceStore,
)
from bridge.threading.opening_hours import opening


class _Store(
    ConversationStore,
    ContactStore,
    HomeFilterStore,
    AwayStore,
    PreferenceStore,
    CampaignStore,
    AnswerStore,
    Protocol,
):
    """The store roles this module uses."""


MAX_VIEWERS = 50  # republished per change; views.publish allows about 100 a minute


class HomeRefresh:
    def __init__(
        self,
        store: _Store,
        gateway: SlackGateway,
        access: InboxAccess,
        business: Business,
        *,
        preferences: bool = False,
        learning: LearningDesk | None = None,
    ) -> None:
        """`preferences`: show each viewer's notification choices (rules notify people);
        `learning`: show admins the lessons for the assistant waiting for them."""
        self._learning = learning
        self._store = store
        self._preferences = preferences
        self._business = business
        self._gateway = gateway
        self._access = access

    async def __call__(self, job: Job) -> None:
        viewers = await self._store.home_viewers()
        # The business's own hours (numbers with their own hours show them on their cards).
        hours = opening(self._business, None, utcnow(), await self._store.away())
        if job.user is not None:
            viewers = {job.user: viewers.get(job.user, InboxFilter.OPEN)}
        campaigns: dict[str, Any] | None = None  # the same for every viewer: read once
        lessons: list[dict[str, Any]] | None = None  # the same for every admin: read once
        for user, inbox in list(viewers.items())[:MAX_VIEWERS]:
            if not await self._access.allows(user):
                continue  # left the inbox channel: their Home stops updating
            if inbox is InboxFilter.CAMPAIGNS:
                campaigns = campaigns or render_campaigns(await self._campaign_rows())
                await self._gateway.publish_home(user, campaigns)
                continue
            conversations = await self._store.list_conversations(inbox, user=user, limit=MAX_ROWS)
            names = {
                c.id: contact.name
                for c in conversations
                if (contact := await self._store.get_contact(c.subscriber)) and contact.name
            }
            links = {c.id: link for c in conversations if (link := await self._link(c)) is not None}
            mine = await self._store.notify_preferences(user) if self._preferences else None
            shown: list[dict[str, Any]] = []
            if self._learning is not None and self._learning.is_admin(user):
                if lessons is None:
                    lessons = lessons_blocks(await self._learning.pending(limit=MAX_LESSONS + 1))
                shown = lessons
            await self._gateway.publish_home(
                user, render_home(conversations, inbox, names, links, hours, mine, shown)
            )

    async def _campaign_rows(self) -> list[CampaignRow]:
        rows = []
        for campaign in await self._store.list_campaigns(limit=MAX_CAMPAIGNS):
            spec = campaign.spec
            answers = spec.poll or spec.feedback or spec.opt_in
            rows.append(
                CampaignRow(
                    campaign,
                    await self._store.campaign_progress(campaign.id),
                    await self._store.tally(campaign.id) if answers else None,
                )
            )
        return rows

    async def _link(self, conversation: Conversation) -> str | None:
        if not (conversation.slack_channel and conversation.slack_thread_ts):
            return None
        identity = await self._gateway.identity()
        workspace = identity.url if identity else "https://slack.com/"
        ts = conversation.slack_thread_ts.replace(".", "")
        return f"{workspace.rstrip('/')}/archives/{conversation.slack_channel}/p{ts}"
