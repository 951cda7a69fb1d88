"""Notifications, wired: the registry's fan-out jobs (PUBLISH, NOTIFY) over the Slack
notifiers and the notification rules; the vias the rules deliver by (ALERT, DIGEST):
Slack, email, the business's webhooks and browser push; the page where people
subscribe to push; and the handlers of the jobs an earlier release stored."""

from __future__ import annotations

from collections.abc import Callable

import aiohttp
from aiohttp import web

from bridge.ai.draft_desk import drafts
from bridge.config import BusinessConfig
from bridge.delivery.outbox import Handler
from bridge.models import JobKind, Message
from bridge.notify.deliveries import Deliveries
from bridge.notify.email_via import EmailAlerts
from bridge.notify.push_links import PushLinks
from bridge.notify.push_page import PushPage
from bridge.notify.recipients import Recipients
from bridge.notify.registry import Notifiers, slack_notifiers
from bridge.notify.rules_notifier import NotificationRules
from bridge.notify.sender_vias import WebhookVia, WebPushVia
from bridge.notify.slack_dead_report import SlackDeadJobReport
from bridge.notify.slack_dm import SlackAssignmentMessage
from bridge.notify.slack_vias import SlackDirectMessages, SlackMentions, ThreadLinks
from bridge.notify.teams import RoutedTeams
from bridge.notify.via import Via, Vias
from bridge.notify.web_push_sender import WebPushSender
from bridge.notify.webhook_sender import WebhookSender
from bridge.slack.wiring import SlackEdge
from bridge.store.base import Store


class Notifications:
    def __init__(
        self,
        store: Store,
        config: BusinessConfig,
        slack: SlackEdge,
        session: aiohttp.ClientSession,
        public_url: str,
        on_enqueued: Callable[[], None],
    ) -> None:
        gateway, posts, threads, inbox = slack.gateway, slack.posts, slack.threads, slack.inbox
        settings = config.notifications
        people = Recipients(gateway, slack.names, settings)
        links = ThreadLinks(gateway, threads)
        # Browser notifications, when the business has a VAPID key: the sender, and the
        # page (with the signed links `/sms push` gives) where people subscribe.
        self.push: WebPushSender | None = None
        self.push_links: PushLinks | None = None
        self._page: PushPage | None = None
        found: list[Via] = [SlackDirectMessages(posts, links), SlackMentions(posts, threads, inbox)]
        if settings.email is not None:
            found.append(EmailAlerts(settings.email, people, business_name=config.business.name))
        webhooks = WebhookSender(session, settings.webhooks)
        found += [WebhookVia(hook.name, webhooks, store) for hook in settings.webhooks]
        if settings.web_push is not None:
            self.push = WebPushSender(session, store, settings.web_push)
            key = settings.web_push.vapid_private_key.get_secret_value().strip()
            minutes = settings.web_push.link_minutes
            self.push_links = PushLinks.for_key(key, public_url, minutes=minutes)
            self._page = PushPage(self.push_links, store, self.push.public_key)
            found.append(WebPushVia(self.push, links, slack_channel_url(inbox)))
        self.vias = Vias(found)

        def will_draft(message: Message) -> bool:
            return drafts(config.ai, message)

        rules = NotificationRules(
            store,
            settings,
            config.business,
            vias=self.vias,
            people=people,
            teams=RoutedTeams(config.routing),
            will_draft=will_draft,
            on_enqueued=on_enqueued,
        )
        self.notifiers = Notifiers(
            store,
            (*slack_notifiers(store, gateway, posts, threads, inbox), rules),
            on_enqueued=on_enqueued,
        )
        self._deliveries = Deliveries(store, self.vias)
        # Jobs an earlier release stored: a dead job's report, an assignment's DM.
        self._stored_earlier: dict[JobKind, Handler] = {
            JobKind.REPORT_DEAD: SlackDeadJobReport(store, posts, inbox),
            JobKind.DIRECT_MESSAGE: SlackAssignmentMessage(store, gateway, posts, threads),
        }

    def jobs(self) -> dict[JobKind, Handler]:
        return {
            **self.notifiers.handlers(),
            JobKind.ALERT: self._deliveries.alert,
            JobKind.DIGEST: self._deliveries.digest,
            **self._stored_earlier,
        }

    def routes(self) -> list[web.RouteDef]:
        """`/notify/push` and its parts, when browser notifications are set up."""
        return self._page.routes() if self._page is not None else []


def slack_channel_url(channel: str) -> str:
    """Opens a channel in the person's Slack (app or browser), whatever the workspace."""
    return f"https://slack.com/app_redirect?channel={channel}"
