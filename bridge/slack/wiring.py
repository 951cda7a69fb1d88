"""The Slack edge, wired: what the rest of the bridge uses of Slack (the paced gateway,
posts made once, threads, names, who may act), then what the edge contributes — its
outbox job handlers, its Bolt listeners, its HTTP route, and its start and stop steps.
A new Slack job kind or listener is one line here."""

from __future__ import annotations

from collections.abc import Callable
from itertools import chain
from typing import Protocol

from aiohttp import web
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bridge.ai.draft_decisions import DraftDecisions
from bridge.ai.draft_desk import DraftDesk
from bridge.ai.learning_desk import LearningDesk
from bridge.config import BusinessConfig, Settings
from bridge.delivery.outbox import Handler
from bridge.delivery.shared_pacing import make_pacer
from bridge.events import SendFailure
from bridge.metrics import Metrics
from bridge.models import JobKind
from bridge.slack.access import InboxAccess
from bridge.slack.gateway import SlackGateway, slack_rate_for
from bridge.slack.jobs.agent_notes import AgentNote
from bridge.slack.jobs.campaign_progress import CampaignProgressPost
from bridge.slack.jobs.campaign_results import CampaignClose, CampaignResultsPost, ResultsMessage
from bridge.slack.jobs.delivery_marks import DeliveryMark
from bridge.slack.jobs.draft_posts import DraftCardSync, LateDraftPoster
from bridge.slack.jobs.feedback_reports import FeedbackReportPoster
from bridge.slack.jobs.header_sync import HeaderSync
from bridge.slack.jobs.home_refresh import HomeRefresh
from bridge.slack.jobs.inbound_posts import FetchMedia, InboundPoster
from bridge.slack.jobs.thread_moves import ThreadMove
from bridge.slack.jobs.thread_notes import ThreadNote
from bridge.slack.listeners.campaign_buttons import CampaignButtons
from bridge.slack.listeners.campaign_dialog import CampaignDialog
from bridge.slack.listeners.draft_buttons import DraftButtons
from bridge.slack.listeners.events_endpoint import SlackEventsEndpoint, build_bolt
from bridge.slack.listeners.header_buttons import HeaderButtons
from bridge.slack.listeners.held_reply_buttons import HeldReplyButtons
from bridge.slack.listeners.home_events import HomeEvents
from bridge.slack.listeners.notify_preferences import NotifyPreferenceChoices
from bridge.slack.listeners.reactions import ReactionListener
from bridge.slack.listeners.shortcut import SmsActionsShortcut
from bridge.slack.listeners.sms_command import SmsCommand
from bridge.slack.listeners.teach_buttons import TeachButtons
from bridge.slack.listeners.thread_messages import ThreadMessages
from bridge.slack.members import InboxMembers, SlackTeamMembers
from bridge.slack.names import SlackNames
from bridge.slack.posts import SlackPosts
from bridge.slack.threads import ThreadKeeper
from bridge.store.base import PaceStore, Store
from bridge.threading.away_replies import AwayReplies
from bridge.threading.command_desk import CommandDesk
from bridge.threading.conversation_desk import ConversationDesk
from bridge.threading.outbound import OutboundPipeline
from bridge.threading.team_assignment import TeamAssignment
from bridge.threading.team_routing import TeamRouting


class Listener(Protocol):
    def register(self, app: AsyncApp) -> None: ...


class SlackEdge:
    def __init__(
        self,
        client: AsyncWebClient,
        settings: Settings,
        business_config: BusinessConfig,
        store: Store,
        metrics: Metrics,
        on_enqueued: Callable[[], None],
        *,
        shared_pacing: PaceStore | None = None,
    ) -> None:
        config, business = business_config.slack, business_config.business
        self.inbox = settings.slack_inbox_channel
        rates = slack_rate_for(
            settings.bridge_slack_post_rate,
            settings.bridge_slack_post_burst,
            settings.bridge_slack_history_per_minute,
        )
        self._pacer = make_pacer(rates, shared=shared_pacing)
        self.gateway = SlackGateway(client, self._pacer, metrics, inbox_channel=self.inbox)
        echo_wait = settings.bridge_slack_echo_wait_seconds
        self.posts = SlackPosts(store, self.gateway, echo_wait=echo_wait)
        self._routing = business_config.routing
        routing = TeamRouting(store, self._routing)
        self.threads = ThreadKeeper(store, self.posts, self.inbox, business, routing, self.gateway)
        self.names = SlackNames(self.gateway)
        members = InboxMembers(self.gateway, self.inbox, config.user_group, self._routing)
        self.access = InboxAccess(members, self.names, self.gateway, store)
        self._store = store
        self._config = config
        self._business = business
        self._preferences = bool(business_config.notifications.rules)
        self._wake = on_enqueued
        self._bolt = build_bolt(client)
        self._app_token = settings.slack_app_token
        self._socket_mode: AsyncSocketModeHandler | None = None
        self._dialog: CampaignDialog | None = None  # set by listen()
        self._signing_secret = settings.slack_signing_secret
        self._sms_rate = settings.bridge_sms_rate
        # Campaigns' progress messages: `campaigns.channel`, else the inbox channel.
        self._campaigns_channel = business_config.campaigns.channel or self.inbox
        self._campaign_segments = tuple(business_config.campaigns.segments)
        # The business numbers a campaign may go out from: the default one first.
        numbered = (
            business.numbers,
            business_config.compliance.numbers,
            business_config.ai.numbers,
        )
        self._numbers = tuple(
            dict.fromkeys(n for n in (settings.twilio_from_number, *chain(*numbered)) if n)
        )

    def jobs(
        self,
        drafts: DraftDesk,
        away: AwayReplies,
        fetch_media: FetchMedia,
        explain_failure: Callable[[int | None], SendFailure],
        desk: ConversationDesk,
        learning: LearningDesk | None = None,
    ) -> dict[JobKind, Handler]:
        """The outbox handlers that call Slack, by the kind of job they run."""
        store, threads = self._store, self.threads
        # The domain's assignment, among the team's members as Slack knows them.
        team_members = SlackTeamMembers(self.gateway)
        results = ResultsMessage(store, self.posts, self.gateway, channel=self._campaigns_channel)
        return {
            JobKind.POST_INBOUND: InboundPoster(
                store, self.posts, threads, fetch_media, drafts, away
            ),
            JobKind.POST_DRAFT: LateDraftPoster(store, threads, drafts, away),
            JobKind.SYNC_DRAFT: DraftCardSync(store, self.gateway, threads),
            JobKind.SYNC_HEADER: HeaderSync(store, self.gateway, threads),
            JobKind.CAMPAIGN_RESULTS: CampaignResultsPost(results),
            JobKind.CLOSE_CAMPAIGN: CampaignClose(store, results, self.posts),
            JobKind.MARK_DELIVERY: DeliveryMark(store, self.gateway, threads, explain_failure),
            JobKind.TELL_AGENT: AgentNote(store, self.gateway, threads),
            JobKind.THREAD_NOTE: ThreadNote(store, threads),
            JobKind.CHANNEL_NOTE: ThreadNote(store, threads, broadcast=True),
            # App Home offers each person's notification choices when there are rules.
            JobKind.REFRESH_HOME: HomeRefresh(
                store,
                self.gateway,
                self.access,
                self._business,
                preferences=self._preferences,
                learning=learning,
            ),
            JobKind.MOVE_THREAD: ThreadMove(threads),
            JobKind.ASSIGN_TEAM: TeamAssignment(store, self._routing, team_members, desk),
            JobKind.FEEDBACK_REPORT: FeedbackReportPoster(
                store, self.posts, self.inbox, self._business
            ),
            JobKind.CAMPAIGN_PROGRESS: CampaignProgressPost(
                store,
                self.posts,
                self.gateway,
                channel=self._campaigns_channel,
                rate=self._sms_rate,
            ),
        }

    def listen(
        self,
        desk: ConversationDesk,
        replies: OutboundPipeline,
        decisions: DraftDecisions,
        commands: CommandDesk,
        learning: LearningDesk | None = None,
    ) -> None:
        """Register every Bolt listener: what people do in Slack, into the domain
        (`learning`: teaching the assistant, when it is on)."""
        store, access = self._store, self.access
        dialog = self._dialog = CampaignDialog(
            commands, access, numbers=self._numbers, segments=self._campaign_segments
        )
        listeners: tuple[Listener, ...] = (
            ThreadMessages(replies, self.names, self.posts, self.threads, access, learning),
            HeldReplyButtons(replies, store, access),
            DraftButtons(decisions, store, access),
            SmsCommand(commands, access, self.names, dialog),
            ReactionListener(desk, commands, access, self._config.reactions),
            HeaderButtons(store, desk, access),
            HomeEvents(store, access, self._wake),
            NotifyPreferenceChoices(store, access, self._wake),
            SmsActionsShortcut(store, desk, commands, access),
            CampaignButtons(store, commands, access),
            dialog,
        )
        if learning is not None:
            teach = TeachButtons(learning, store, access, self.gateway, inbox=self.inbox)
            listeners = (*listeners, teach)
        for listener in listeners:
            listener.register(self._bolt)
        if self._app_token is not None:
            token = self._app_token.get_secret_value()
            self._socket_mode = AsyncSocketModeHandler(self._bolt, token)

    def routes(self) -> list[web.RouteDef]:
        if self._signing_secret is None:
            # Without a signing secret (Socket Mode only) nothing could tell Slack's
            # requests from forged ones: the HTTP endpoint does not exist then.
            return []
        secret = self._signing_secret.get_secret_value()
        endpoint = SlackEventsEndpoint(self._bolt, secret, self.posts)
        return [web.post("/slack/events", endpoint.handle)]

    async def connect(self) -> None:
        """Start step: events over Socket Mode, when an app token is set."""
        if self._socket_mode is not None:
            await self._socket_mode.connect_async()  # type: ignore[no-untyped-call]

    async def disconnect(self) -> None:
        """First stop step: no new events, before the outbox stops; campaigns being
        created from the dialog finish (bounded)."""
        if self._socket_mode is not None:
            await self._socket_mode.close_async()  # type: ignore[no-untyped-call]
        if self._dialog is not None:
            await self._dialog.finish()

    async def close(self) -> None:
        """Stop step after the outbox: the posts' pending look-ups, holds being shared."""
        await self.posts.close()
        await self._pacer.close()
