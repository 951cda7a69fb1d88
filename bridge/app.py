"""The composition root: the one place that builds clients and wires the layers."""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import Awaitable, Callable
from datetime import timedelta

import aiohttp
from aiohttp import web
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_sdk.web.async_client import AsyncWebClient
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client as TwilioClient

from bridge.ai.appointment_webhook import AppointmentWebhook
from bridge.ai.budget import TokenBudget
from bridge.ai.draft_decisions import DraftDecisions
from bridge.ai.draft_desk import DraftDesk, Engines
from bridge.ai.drafter import TokenUsage
from bridge.ai.kb_reload import KnowledgeReloader
from bridge.ai.knowledge import KnowledgeError, knowledge_source
from bridge.ai.offline import OfflineDrafter
from bridge.ai.tools import OrderLookup, Tools
from bridge.compliance.keyword_desk import KeywordDesk
from bridge.compliance.promo import PromoCheck
from bridge.config import BusinessConfig, ConfigError, Settings, StoreSettings
from bridge.delivery.outbox import Handler, Outbox, RetryPolicy
from bridge.delivery.pacing import Pacer, Rate
from bridge.metrics import Metrics
from bridge.models import JobKind
from bridge.notify.registry import Notifiers, slack_notifiers
from bridge.notify.slack_dead_report import SlackDeadJobReport
from bridge.notify.slack_dm import SlackAssignmentMessage
from bridge.ops import OpsEndpoints
from bridge.preflight import knowledge_problem
from bridge.slack.access import InboxAccess
from bridge.slack.agent_notes import AgentNote
from bridge.slack.commands import SmsCommand
from bridge.slack.delivery_marks import DeliveryMark
from bridge.slack.draft_actions import DraftActions
from bridge.slack.draft_poster import DraftCardSync, LateDraftPoster
from bridge.slack.events import SlackEventsEndpoint, build_bolt
from bridge.slack.gateway import SlackGateway, slack_rates
from bridge.slack.header_actions import HeaderActions
from bridge.slack.header_sync import HeaderSync
from bridge.slack.held_replies import HeldReplyActions
from bridge.slack.home import HomeTab
from bridge.slack.inbound_poster import InboundPoster
from bridge.slack.listeners import MessageListener
from bridge.slack.members import InboxMembers
from bridge.slack.names import SlackNames
from bridge.slack.posts import SlackPosts
from bridge.slack.reactions import ReactionListener
from bridge.slack.shortcut import SmsActionsShortcut
from bridge.slack.thread_notes import ThreadNote
from bridge.slack.threads import ThreadKeeper
from bridge.sms.media import TwilioMedia
from bridge.sms.send_failures import send_failure
from bridge.sms.sender import TwilioSender
from bridge.sms.signature import TwilioSignature
from bridge.sms.webhooks import InboundWebhook, StatusWebhook
from bridge.store.base import Store
from bridge.store.mongo import MongoStore
from bridge.store.sqlite import SQLiteStore
from bridge.threading.command_desk import CommandDesk
from bridge.threading.inbound import InboundPipeline
from bridge.threading.lifecycle import ConversationDesk
from bridge.threading.outbound import OutboundPipeline, ReplyRules
from bridge.threading.sending import ReplySender

MAX_REQUEST_BYTES = 1024 * 1024  # Slack interactivity payloads are the largest inputs
# The job kinds the app's outbox runs (what a test checks against `jobs.py`).
JOB_KINDS = web.AppKey("job_kinds", frozenset[JobKind])


def make_slack_client(settings: Settings, session: aiohttp.ClientSession) -> AsyncWebClient:
    return AsyncWebClient(
        token=settings.slack_bot_token.get_secret_value(),
        base_url=f"{settings.slack_api_url}/",  # slack_sdk appends method names
        session=session,
        timeout=10,
        # No retries inside a call: a post retried blindly after a lost answer would
        # show twice. Every retry goes back to the outbox, which knows what landed.
        retry_handlers=[],
    )


def make_twilio_client(settings: Settings) -> TwilioClient:
    client = TwilioClient(
        settings.twilio_account_sid,
        settings.twilio_auth_token.get_secret_value(),
        http_client=AsyncTwilioHttpClient(timeout=10),
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
    return Tools(orders=orders, appointments=config.ai.tools.appointments is not None)


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
    slack = make_slack_client(settings, session)
    twilio = make_twilio_client(settings)
    gateway = SlackGateway(
        slack,
        slack_rates(settings.bridge_slack_post_rate, settings.bridge_slack_post_burst),
        metrics,
        inbox_channel=settings.slack_inbox_channel,
    )
    posts = SlackPosts(store, gateway, echo_wait=settings.bridge_slack_echo_wait_seconds)
    threads = ThreadKeeper(store, posts, settings.slack_inbox_channel)
    media = TwilioMedia(
        session,
        api_url=settings.twilio_api_url,
        account_sid=settings.twilio_account_sid,
        auth_token=settings.twilio_auth_token.get_secret_value(),
    )
    outbox = Outbox(
        store,
        metrics,
        concurrency=settings.bridge_workers,
        lease_seconds=settings.bridge_job_lease_seconds,
        policy=retry_policy or RetryPolicy(),
    )
    notifiers = Notifiers(
        store,
        slack_notifiers(store, gateway, posts, threads, settings.slack_inbox_channel),
        on_enqueued=outbox.wake,
    )
    store.publishing = notifiers.publishing  # the store's own writes publish these too
    members = InboxMembers(gateway, settings.slack_inbox_channel, config.slack.user_group)
    names = SlackNames(gateway)
    access = InboxAccess(members, names, gateway, store)
    home = HomeTab(store, gateway, access, outbox.wake)
    desk = ConversationDesk(store, on_enqueued=outbox.wake, publishing=notifiers.publishing)
    replies = OutboundPipeline(
        store,
        ReplyRules(
            note_prefix=config.slack.note_prefix,
            undo_seconds=config.slack.undo_seconds,
            smart_encoding=config.slack.smart_encoding,
            promo=PromoCheck(config.compliance.promo_patterns),
            default_zone=config.business.timezone,
        ),
        on_enqueued=outbox.wake,
        wake_at=outbox.wake_at,
    )
    sms_sender = TwilioSender(
        twilio,
        # A small burst lets the average keep up with the rate when a wake is late.
        Pacer(lambda _sender: Rate(rate := settings.bridge_sms_rate, math.ceil(rate / 10))),
        account_sid=settings.twilio_account_sid,
        status_callback=f"{settings.bridge_public_url}/sms/status",
    )
    appointments = config.ai.tools.appointments
    tools = make_tools(config, session)
    engines, close_engines = make_engines(settings, config, tools, metrics, store)
    knowledge = knowledge_source(config)
    reloader = KnowledgeReloader(knowledge, engines.fallback, metrics)
    try:
        if config.ai.enabled:
            await reloader.load()
    except KnowledgeError as exc:
        await twilio.http_client.close()
        await session.close()
        await store.close()
        raise ConfigError(knowledge_problem(exc)) from None
    decisions = DraftDecisions(store, replies, metrics, outbox.wake)
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
    handlers: dict[JobKind, Handler] = {
        **notifiers.handlers(),
        JobKind.POST_INBOUND: InboundPoster(store, posts, threads, media.fetch, drafts),
        JobKind.POST_DRAFT: LateDraftPoster(store, threads, drafts),
        JobKind.SYNC_DRAFT: DraftCardSync(store, gateway),
        JobKind.SYNC_HEADER: HeaderSync(store, gateway, threads),
        # Jobs an earlier release stored: a dead job's report, an assignment's DM.
        JobKind.REPORT_DEAD: SlackDeadJobReport(store, posts, settings.slack_inbox_channel),
        JobKind.DIRECT_MESSAGE: SlackAssignmentMessage(store, gateway, posts, threads),
        JobKind.SEND_SMS: ReplySender(
            store,
            sms_sender,
            names,
            messaging_service_sid=settings.twilio_messaging_service_sid,
            on_enqueued=outbox.wake,
            default_zone=config.business.timezone,
        ),
        JobKind.MARK_DELIVERY: DeliveryMark(store, gateway, threads, send_failure),
        JobKind.TELL_AGENT: AgentNote(store, gateway, threads),
        JobKind.THREAD_NOTE: ThreadNote(store, threads),
        JobKind.CHANNEL_NOTE: ThreadNote(store, threads, broadcast=True),
        JobKind.REFRESH_HOME: home,
    }
    if appointments is not None and appointments.webhook_url is not None:
        secret = appointments.webhook_secret
        handlers[JobKind.APPOINTMENT_WEBHOOK] = AppointmentWebhook(
            store,
            session,
            appointments.webhook_url,
            secret=secret.get_secret_value() if secret else None,
        )
    for kind, handler in handlers.items():
        outbox.register(kind, handler)
    inbound = InboundPipeline(
        store,
        KeywordDesk(store, config.compliance, config.business, on_enqueued=outbox.wake),
        desk,
        header_refresh=timedelta(minutes=config.slack.header_refresh_minutes),
        on_enqueued=outbox.wake,
    )
    signature = TwilioSignature(
        settings.twilio_auth_token.get_secret_value(), settings.bridge_public_url
    )
    signing_secret = settings.slack_signing_secret
    bolt = build_bolt(slack)
    commands = CommandDesk(
        store,
        desk,
        replies,
        business=config.business,
        slack=config.slack,
        # New conversations (/sms send) and phone-number targets use this number.
        business_number=settings.twilio_from_number,
        knowledge=reloader if config.ai.enabled else None,
    )
    MessageListener(replies, names, posts, access).register(bolt)
    HeldReplyActions(replies, store, access).register(bolt)
    DraftActions(decisions, store, access).register(bolt)
    SmsCommand(commands, access, names).register(bolt)
    ReactionListener(desk, commands, access, config.slack.reactions).register(bolt)
    HeaderActions(store, desk, access).register(bolt)
    home.register(bolt)
    SmsActionsShortcut(store, desk, commands, access).register(bolt)
    socket_mode = (
        AsyncSocketModeHandler(bolt, settings.slack_app_token.get_secret_value())
        if settings.slack_app_token
        else None
    )

    app = web.Application(client_max_size=MAX_REQUEST_BYTES)
    app.add_routes(
        [
            web.post("/sms/inbound", InboundWebhook(signature, inbound.receive, metrics).handle),
            web.post(
                "/sms/status", StatusWebhook(signature, replies.delivery_update, metrics).handle
            ),
            *OpsEndpoints(store, metrics).routes(),
        ]
    )
    if signing_secret is not None:
        # Without a signing secret (Socket Mode only) nothing could tell Slack's
        # requests from forged ones: the HTTP endpoint does not exist then.
        endpoint = SlackEventsEndpoint(bolt, signing_secret.get_secret_value(), posts)
        app.add_routes([web.post("/slack/events", endpoint.handle)])

    background: list[asyncio.Task[None]] = []

    async def start(_app: web.Application) -> None:
        for name, text in config.canned.items():  # the config is the truth for its names
            await store.put_canned(name, text)
        if engines.budget is not None:
            await engines.budget.settle()  # today's spending so far, by every process
        await outbox.start()
        if config.ai.enabled and config.knowledge.path is not None:
            background.append(asyncio.create_task(reloader.watch(KB_POLL_SECONDS)))
        if socket_mode is not None:
            await socket_mode.connect_async()  # type: ignore[no-untyped-call]

    async def stop(_app: web.Application) -> None:
        for task in background:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task  # a task that died already must not stop the clean-up
        if socket_mode is not None:
            await socket_mode.close_async()  # type: ignore[no-untyped-call]
        await outbox.stop()
        await posts.close()
        await drafts.close()
        if close_engines is not None:
            await close_engines()
        await twilio.http_client.close()
        await session.close()
        await store.close()

    app.on_startup.append(start)
    app.on_cleanup.append(stop)
    app[JOB_KINDS] = frozenset(handlers)
    return app
