"""The composition root: the one place that builds clients and wires the layers. It
reads like the architecture: the store, the clients, the outbox, the domain
(conversations, keywords, the assistant), then each edge wires itself (`slack/wiring.py`,
`sms/wiring.py`, `notify/wiring.py`), and the web app serves their routes and runs their
start and stop steps."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

import aiohttp
from aiohttp import web
from slack_sdk.web.async_client import AsyncWebClient
from twilio.rest import Client as TwilioClient

from bridge.ai.appointment_webhook import AppointmentWebhook
from bridge.ai.availability import free_slots
from bridge.ai.budget import TokenBudget
from bridge.ai.draft_decisions import DraftDecisions
from bridge.ai.draft_desk import DraftDesk, Engines
from bridge.ai.drafter import TokenUsage
from bridge.ai.kb_reload import KnowledgeReloader
from bridge.ai.knowledge import KnowledgeError, knowledge_source
from bridge.ai.learning_desk import LearningDesk
from bridge.ai.offline import OfflineDrafter
from bridge.ai.tools import OrderLookup, Tools
from bridge.campaigns.desk import CampaignDesk
from bridge.campaigns.feedback_flow import FeedbackFlow
from bridge.campaigns.opt_in_flow import OptInFlow
from bridge.campaigns.poll_flow import PollFlow
from bridge.campaigns.pump import CampaignPump
from bridge.campaigns.replies import CampaignReplies
from bridge.compliance.keyword_desk import KeywordDesk
from bridge.compliance.promo import PromoCheck
from bridge.config import BusinessConfig, ConfigError, Settings, StoreSettings
from bridge.delivery.outbox import Handler, Outbox, RetryPolicy
from bridge.metrics import Metrics
from bridge.models import JobKind
from bridge.notify.push_links import PushLinks
from bridge.notify.wiring import Notifications
from bridge.ops import OpsEndpoints
from bridge.preflight import knowledge_problem
from bridge.slack.wiring import SlackEdge
from bridge.sms.twilio_http import TimedTwilioHttpClient
from bridge.sms.wiring import TwilioEdge
from bridge.store.base import Store
from bridge.store.mongo import MongoStore
from bridge.store.sqlite import SQLiteStore
from bridge.threading.away_replies import AwayReplies
from bridge.threading.command_desk import CommandDesk
from bridge.threading.conversation_desk import ConversationDesk
from bridge.threading.first_response import FirstResponseTimer
from bridge.threading.inbound import InboundPipeline
from bridge.threading.outbound import OutboundPipeline, ReplyRules

MAX_REQUEST_BYTES = 1024 * 1024  # Slack interactivity payloads are the largest inputs
# The job kinds the app's outbox runs (what a test checks against `jobs.py`).
JOB_KINDS = web.AppKey("job_kinds", frozenset[JobKind])


# How long a Slack call may take; past it, a post's outcome is unknown (found out later).
SLACK_TIMEOUT = 10


def make_slack_client(settings: Settings, session: aiohttp.ClientSession) -> AsyncWebClient:
    return AsyncWebClient(
        token=settings.slack_bot_token.get_secret_value(),
        base_url=f"{settings.slack_api_url}/",  # slack_sdk appends method names
        session=session,
        timeout=SLACK_TIMEOUT,
        # No retries inside a call: a post retried blindly after a lost answer would
        # show twice. Every retry goes back to the outbox, which knows what landed.
        retry_handlers=[],
    )


# How long a Twilio call may take; past it, a send's outcome is unknown (looked for).
TWILIO_TIMEOUT = 10.0


def make_twilio_client(settings: Settings, *, timeout: float = TWILIO_TIMEOUT) -> TwilioClient:
    client = TwilioClient(
        settings.twilio_account_sid,
        settings.twilio_auth_token.get_secret_value(),
        http_client=TimedTwilioHttpClient(timeout=timeout),
    )
    # Every Twilio domain the bridge uses goes to one base URL (tests, proxies).
    client.api.base_url = settings.twilio_api_url
    client.messaging.base_url = settings.twilio_api_url
    return client


KB_POLL_SECONDS = 5.0


def make_tools(config: BusinessConfig, session: aiohttp.ClientSession) -> Tools:
    order = config.ai.tools.order_status
    orders = (
        OrderLookup(
            session,
            order.url,
            timeout=order.timeout_seconds,
            headers={name: value.get_secret_value() for name, value in order.headers.items()},
        )
        if order is not None
        else None
    )
    tools = config.ai.tools
    return Tools(
        orders=orders,
        # Free times serve appointment wishes: offering them turns the wishes on.
        appointments=tools.appointments is not None or tools.availability is not None,
        availability=free_slots(tools.availability, session) if tools.availability else None,
    )


Closer = Callable[[], Awaitable[None]]


def make_engines(
    settings: Settings, config: BusinessConfig, tools: Tools, metrics: Metrics, store: Store
) -> tuple[Engines, Closer | None]:
    """Claude when an API key is set (within the daily budget), else the offline engine;
    and what closes Claude's client."""
    offline = OfflineDrafter(tools=tools)
    key = settings.anthropic_api_key
    if key is None or not config.ai.enabled or config.ai.daily_token_budget == 0:
        return Engines(primary=offline, fallback=offline), None
    # Loaded only with a key: the SDK costs about 40 MiB and a second at start.
    import anthropic

    from bridge.ai.engines.claude import ClaudeDrafter

    metrics.ai_budget_limit.set(config.ai.daily_token_budget)
    budget = TokenBudget(
        store,
        config.ai.daily_token_budget,
        config.business.timezone,
        on_change=metrics.ai_budget_spent.set,
    )

    def on_usage(usage: TokenUsage) -> None:
        budget.record(usage)
        for kind, count in (
            ("input", usage.input_tokens),
            ("output", usage.output_tokens),
            ("cache_read", usage.cache_read_input_tokens),
            ("cache_write", usage.cache_creation_input_tokens),
        ):
            metrics.ai_tokens.labels(kind).inc(count)

    client = anthropic.AsyncAnthropic(
        api_key=key.get_secret_value(),
        base_url=settings.anthropic_base_url,
        max_retries=2,  # the SDK's backoff honours retry-after on 429 and 529
        timeout=20,
    )
    claude = ClaudeDrafter(
        client,
        model=config.ai.model,
        tools=tools,
        max_reply_chars=config.ai.max_reply_chars,
        on_usage=on_usage,
    )
    return Engines(primary=claude, fallback=offline, budget=budget), client.close


def make_store(settings: StoreSettings) -> Store:
    if settings.mongodb_uri is not None:
        return MongoStore.from_uri(settings.mongodb_uri.get_secret_value())
    return SQLiteStore(settings.bridge_db_path)


def make_outbox(
    settings: Settings, store: Store, metrics: Metrics, policy: RetryPolicy | None
) -> Outbox:
    return Outbox(
        store,
        metrics,
        concurrency=settings.bridge_workers,
        lease_seconds=settings.bridge_job_lease_seconds,
        policy=policy or RetryPolicy(),
    )


def make_reply_rules(config: BusinessConfig) -> ReplyRules:
    return ReplyRules(
        note_prefix=config.slack.note_prefix,
        undo_seconds=config.slack.undo_seconds,
        smart_encoding=config.slack.smart_encoding,
        promo=PromoCheck(config.compliance.promo_patterns),
        default_zone=config.business.timezone,
    )


def appointment_jobs(
    config: BusinessConfig, store: Store, session: aiohttp.ClientSession
) -> dict[JobKind, Handler]:
    """The assistant's one job of its own, when the business has an appointment webhook."""
    appointments = config.ai.tools.appointments
    if appointments is None or appointments.webhook_url is None:
        return {}
    secret = appointments.webhook_secret
    webhook = AppointmentWebhook(
        store,
        session,
        appointments.webhook_url,
        secret=secret.get_secret_value() if secret else None,
    )
    return {JobKind.APPOINTMENT_WEBHOOK: webhook}


@dataclass(frozen=True)
class Assistant:
    engines: Engines
    close_engines: Closer | None
    reloader: KnowledgeReloader
    decisions: DraftDecisions
    drafts: DraftDesk
    learning: LearningDesk | None  # None: the assistant is off

    async def close(self) -> None:
        await self.drafts.close()
        if self.close_engines is not None:
            await self.close_engines()


async def build_assistant(
    settings: Settings,
    config: BusinessConfig,
    store: Store,
    session: aiohttp.ClientSession,
    metrics: Metrics,
    outbox: Outbox,
    desk: ConversationDesk,
    replies: OutboundPipeline,
) -> Assistant:
    """The drafting engines, the knowledge they read (loaded now: a broken knowledge
    base stops start-up with a `ConfigError`), and the desks that draft and decide."""
    engines, close_engines = make_engines(
        settings, config, make_tools(config, session), metrics, store
    )
    knowledge = knowledge_source(config)
    reloader = KnowledgeReloader(knowledge, engines.fallback, metrics)
    try:
        if config.ai.enabled:
            await reloader.load()
    except KnowledgeError as exc:
        raise ConfigError(knowledge_problem(exc)) from None
    decisions = DraftDecisions(store, replies, metrics, outbox.wake)
    appointments = config.ai.tools.appointments
    drafts = DraftDesk(
        store,
        engines,
        knowledge,
        decisions,
        desk,
        ai=config.ai,
        business=config.business,
        metrics=metrics,
        on_enqueued=outbox.wake,
        appointment_webhook=bool(appointments and appointments.webhook_url),
    )
    learning = (
        LearningDesk(
            store,
            engines.fallback,
            knowledge,
            reloader,
            admins=config.slack.admins,
            on_enqueued=outbox.wake,
        )
        if config.ai.enabled
        else None
    )
    return Assistant(engines, close_engines, reloader, decisions, drafts, learning)


@dataclass(frozen=True)
class Domain:
    """The rules: conversations, keywords and the assistant, over the store and the
    outbox; the edges call into these."""

    desk: ConversationDesk
    replies: OutboundPipeline
    inbound: InboundPipeline
    commands: CommandDesk
    assistant: Assistant
    away: AwayReplies
    first_response: FirstResponseTimer
    campaigns: CampaignDesk


async def build_domain(
    settings: Settings,
    config: BusinessConfig,
    store: Store,
    session: aiohttp.ClientSession,
    metrics: Metrics,
    outbox: Outbox,
    push_links: PushLinks | None = None,
) -> Domain:
    wake = outbox.wake
    desk = ConversationDesk(store, on_enqueued=wake, publishing=store.publishing)
    replies = OutboundPipeline(
        store, make_reply_rules(config), on_enqueued=wake, wake_at=outbox.wake_at
    )
    assistant = await build_assistant(
        settings, config, store, session, metrics, outbox, desk, replies
    )
    keywords = KeywordDesk(store, config.compliance, config.business, on_enqueued=wake)
    inbound = InboundPipeline(
        store,
        keywords,
        desk,
        header_refresh=timedelta(minutes=config.slack.header_refresh_minutes),
        on_enqueued=wake,
        campaigns=campaign_replies(config, store, desk, wake),
    )
    campaigns = CampaignDesk(
        store,
        config.business,
        config.campaigns,
        rate=settings.bridge_sms_rate,
        on_enqueued=wake,
        routing=config.routing,
    )
    commands = CommandDesk(
        store,
        desk,
        replies,
        business=config.business,
        slack=config.slack,
        # New conversations (/sms send) and phone-number targets use this number.
        business_number=settings.twilio_from_number,
        knowledge=assistant.reloader if config.ai.enabled else None,
        routing=config.routing,
        push_links=push_links,
        campaigns=campaigns,
    )
    away = AwayReplies(store, config.business, config.hours, on_enqueued=wake)
    sla = config.notifications.sla
    # The store's writes of texts arm the timer: they need its minutes.
    store.first_response_minutes = None if sla is None else sla.first_response_minutes
    first_response = FirstResponseTimer(
        store, config.business, config.notifications, on_enqueued=wake
    )
    return Domain(desk, replies, inbound, commands, assistant, away, first_response, campaigns)


def campaign_replies(
    config: BusinessConfig, store: Store, desk: ConversationDesk, wake: Callable[[], None]
) -> CampaignReplies:
    """The flows that read replies to campaigns as answers (polls, opt-in and rating
    requests; a rating's follow-up question quotes the next text)."""
    feedback = FeedbackFlow(
        store, desk, business=config.business, routing=config.routing, on_enqueued=wake
    )
    flows = (
        PollFlow(store, on_enqueued=wake),
        OptInFlow(store, config.business, on_enqueued=wake),
        feedback,
    )
    return CampaignReplies(store, flows, on_enqueued=wake, follow_ups=(feedback,))


def campaign_jobs(
    settings: Settings, config: BusinessConfig, store: Store, outbox: Outbox
) -> dict[JobKind, Handler]:
    """The campaigns' sending: their pumps queue recipients at the sender's rate."""
    pump = CampaignPump(
        store, config.business, rate=settings.bridge_sms_rate, on_enqueued=outbox.wake
    )
    return {JobKind.CAMPAIGN_PUMP: pump}


def register_jobs(outbox: Outbox, *tables: dict[JobKind, Handler]) -> frozenset[JobKind]:
    """Every part's job handlers into the outbox (a kind handled twice is refused);
    the kinds it now runs."""
    kinds: set[JobKind] = set()
    for table in tables:
        for kind, handler in table.items():
            outbox.register(kind, handler)
        kinds |= table.keys()
    return frozenset(kinds)


def add_lifecycle(
    app: web.Application,
    config: BusinessConfig,
    store: Store,
    session: aiohttp.ClientSession,
    outbox: Outbox,
    domain: Domain,
    edges: tuple[SlackEdge, TwilioEdge],
) -> None:
    """Start: the config's canned texts, today's AI spending, the outbox, the knowledge
    watcher, Slack's Socket Mode. Stop: from what takes work in to what holds state."""
    slack, twilio = edges
    assistant = domain.assistant
    background: list[asyncio.Task[None]] = []

    async def start(_app: web.Application) -> None:
        for name, text in config.canned.items():  # the config is the truth for its names
            await store.put_canned(name, text)
        if assistant.engines.budget is not None:
            await assistant.engines.budget.settle()  # today's spending so far, by every process
        await outbox.start()
        if config.ai.enabled and config.knowledge.path is not None:
            background.append(asyncio.create_task(assistant.reloader.watch(KB_POLL_SECONDS)))
        await slack.connect()

    async def stop(_app: web.Application) -> None:
        for task in background:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task  # a task that died already must not stop the clean-up
        await slack.disconnect()
        await outbox.stop()
        await slack.close()
        await assistant.close()
        await twilio.close()
        await session.close()
        await store.close()

    app.on_startup.append(start)
    app.on_cleanup.append(stop)


@dataclass(frozen=True)
class Edges:
    slack: SlackEdge
    twilio: TwilioEdge
    notifications: Notifications


def every_job(
    settings: Settings,
    config: BusinessConfig,
    store: Store,
    session: aiohttp.ClientSession,
    outbox: Outbox,
    domain: Domain,
    edges: Edges,
) -> frozenset[JobKind]:
    """Every job kind's handler, registered with the outbox: the kinds it runs."""
    slack, twilio = edges.slack, edges.twilio
    return register_jobs(
        outbox,
        edges.notifications.jobs(),
        slack.jobs(
            domain.assistant.drafts,
            domain.away,
            twilio.media.fetch,
            twilio.explain_failure,
            domain.desk,
            domain.assistant.learning,
        ),
        twilio.jobs(store, slack.names, outbox.wake, config.business.timezone),
        appointment_jobs(config, store, session),
        domain.first_response.jobs(),
        campaign_jobs(settings, config, store, outbox),
    )


async def build_app(
    settings: Settings,
    config: BusinessConfig,
    *,
    store: Store | None = None,
    retry_policy: RetryPolicy | None = None,
) -> web.Application:
    """Build the whole bridge as an aiohttp application; its start-up starts the
    workers and its clean-up stops them and closes every client."""
    metrics = Metrics()
    store = store or make_store(settings)
    await store.open()
    session = aiohttp.ClientSession()
    # Several processes on the store spend each platform's budget together.
    pacing = store if settings.bridge_shared_pacing else None
    twilio = TwilioEdge(make_twilio_client(settings), session, settings, shared_pacing=pacing)
    outbox = make_outbox(settings, store, metrics, retry_policy)
    slack_client = make_slack_client(settings, session)
    slack = SlackEdge(
        slack_client, settings, config, store, metrics, outbox.wake, shared_pacing=pacing
    )
    notifications = Notifications(
        store, config, slack, session, settings.bridge_public_url, outbox.wake
    )
    # Only events some notifier wants are published, by the store's writes too.
    store.publishing = notifications.notifiers.publishing
    try:
        domain = await build_domain(
            settings, config, store, session, metrics, outbox, notifications.push_links
        )
    except ConfigError:
        await twilio.close()
        await session.close()
        await store.close()
        raise
    edges = Edges(slack, twilio, notifications)
    kinds = every_job(settings, config, store, session, outbox, domain, edges)
    assistant = domain.assistant
    slack.listen(
        domain.desk, domain.replies, assistant.decisions, domain.commands, assistant.learning
    )

    app = web.Application(client_max_size=MAX_REQUEST_BYTES)
    app.add_routes(
        [
            *twilio.routes(domain.inbound, domain.replies, metrics),
            *OpsEndpoints(store, metrics).routes(),
            *slack.routes(),
            *notifications.routes(),
        ]
    )
    add_lifecycle(app, config, store, session, outbox, domain, (slack, twilio))
    app[JOB_KINDS] = kinds
    return app
