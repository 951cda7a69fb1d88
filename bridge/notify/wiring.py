"""Notifications, wired: the registry's fan-out jobs (PUBLISH, NOTIFY) over the Slack
notifiers, the senders to the business's own receivers (WEBHOOK), and the handlers of
the jobs an earlier release stored for the same effects."""

from __future__ import annotations

from collections.abc import Callable

import aiohttp
from aiohttp import web

from bridge.delivery.outbox import Handler
from bridge.models import JobKind
from bridge.notify.push_links import PushLinks
from bridge.notify.push_page import PushPage
from bridge.notify.registry import Notifiers, slack_notifiers
from bridge.notify.slack_dead_report import SlackDeadJobReport
from bridge.notify.slack_dm import SlackAssignmentMessage
from bridge.notify.web_push_sender import WebPushSender
from bridge.notify.webhook_deliveries import WebhookDeliveries
from bridge.notify.webhook_sender import WebhookSender
from bridge.sender_settings import NotificationSenders
from bridge.slack.gateway import SlackGateway
from bridge.slack.posts import SlackPosts
from bridge.slack.threads import ThreadKeeper
from bridge.store.base import Store


class Notifications:
    def __init__(
        self,
        store: Store,
        gateway: SlackGateway,
        posts: SlackPosts,
        threads: ThreadKeeper,
        inbox: str,
        on_enqueued: Callable[[], None],
        session: aiohttp.ClientSession,
        senders: NotificationSenders,
        public_url: str,
    ) -> None:
        self.notifiers = Notifiers(
            store, slack_notifiers(store, gateway, posts, threads, inbox), on_enqueued=on_enqueued
        )
        # Jobs an earlier release stored: a dead job's report, an assignment's DM.
        self._stored_earlier: dict[JobKind, Handler] = {
            JobKind.REPORT_DEAD: SlackDeadJobReport(store, posts, inbox),
            JobKind.DIRECT_MESSAGE: SlackAssignmentMessage(store, gateway, posts, threads),
        }
        self.webhooks = WebhookSender(session, senders.webhooks)
        self._deliveries: dict[JobKind, Handler] = {
            # Always run: a job stored for a webhook since removed is given up, reported.
            JobKind.WEBHOOK: WebhookDeliveries(store, self.webhooks),
        }
        # Browser notifications, when the business has a VAPID key: the sender, and the
        # page (with the signed links `/sms push` gives) where people subscribe.
        self.push: WebPushSender | None = None
        self.push_links: PushLinks | None = None
        self._page: PushPage | None = None
        if senders.web_push is not None:
            self.push = WebPushSender(session, store, senders.web_push)
            key = senders.web_push.vapid_private_key.get_secret_value().strip()
            minutes = senders.web_push.link_minutes
            self.push_links = PushLinks.for_key(key, public_url, minutes=minutes)
            self._page = PushPage(self.push_links, store, self.push.public_key)

    def jobs(self) -> dict[JobKind, Handler]:
        return {**self.notifiers.handlers(), **self._deliveries, **self._stored_earlier}

    def routes(self) -> list[web.RouteDef]:
        """`/notify/push` and its parts, when browser notifications are set up."""
        return self._page.routes() if self._page is not None else []
