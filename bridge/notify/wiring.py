"""Notifications, wired: the registry's fan-out jobs (PUBLISH, NOTIFY) over the Slack
notifiers and the notification rules, the vias the rules deliver by (ALERT, DIGEST),
and the handlers of the jobs an earlier release stored for the same effects."""

from __future__ import annotations

from collections.abc import Callable

from bridge.ai.draft_desk import drafts
from bridge.config import BusinessConfig
from bridge.delivery.outbox import Handler
from bridge.models import JobKind, Message
from bridge.notify.deliveries import Deliveries
from bridge.notify.email_via import EmailAlerts
from bridge.notify.recipients import Recipients
from bridge.notify.registry import Notifiers, slack_notifiers
from bridge.notify.rules_notifier import NotificationRules
from bridge.notify.slack_dead_report import SlackDeadJobReport
from bridge.notify.slack_dm import SlackAssignmentMessage
from bridge.notify.slack_vias import SlackDirectMessages, SlackMentions
from bridge.notify.teams import NoTeams, Teams
from bridge.notify.via import Via, Vias
from bridge.slack.gateway import SlackGateway
from bridge.slack.posts import SlackPosts
from bridge.slack.threads import ThreadKeeper
from bridge.slack.wiring import SlackEdge
from bridge.store.base import Store


def vias(
    config: BusinessConfig,
    people: Recipients,
    gateway: SlackGateway,
    posts: SlackPosts,
    threads: ThreadKeeper,
    inbox: str,
) -> list[Via]:
    """Every via this configuration has: a new one is a line here."""
    found: list[Via] = [
        SlackDirectMessages(posts, gateway, threads),
        SlackMentions(posts, threads, inbox),
    ]
    email = config.notifications.email
    if email is not None:
        found.append(EmailAlerts(email, people, business_name=config.business.name))
    return found


class Notifications:
    def __init__(
        self,
        store: Store,
        config: BusinessConfig,
        slack: SlackEdge,
        on_enqueued: Callable[[], None],
        *,
        teams: Teams | None = None,
    ) -> None:
        """`teams`: the conversations' teams (routing's); none without it."""
        gateway, posts, threads, inbox = slack.gateway, slack.posts, slack.threads, slack.inbox
        names = slack.names
        people = Recipients(gateway, names, config.notifications)
        self.vias = Vias(vias(config, people, gateway, posts, threads, inbox))

        def will_draft(message: Message) -> bool:
            return drafts(config.ai, message)

        rules = NotificationRules(
            store,
            config.notifications,
            config.business,
            vias=self.vias,
            people=people,
            teams=teams or NoTeams(),
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
