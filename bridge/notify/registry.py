"""The notifiers the bridge runs, and the fan-out of events to them. An event is
published by a job of its own (PUBLISH, enqueued with the change it tells of); running
it enqueues one NOTIFY job per notifier that wants the event, in a lane of the
notifier's: one that fails retries alone and holds up no conversation."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol

import structlog

from bridge.delivery.errors import GiveUp
from bridge.delivery.outbox import Handler
from bridge.events import Event, MessageReceived, Publishing, load_event
from bridge.jobs import Notice, notify_job
from bridge.models import Job, JobKind, Message, utcnow
from bridge.notify.notifier import Notifier
from bridge.notify.slack_dead_report import SlackDeadJobReport
from bridge.notify.slack_dm import SlackAssignmentMessage
from bridge.slack.gateway import SlackGateway
from bridge.slack.posts import SlackPosts
from bridge.slack.threads import ThreadKeeper
from bridge.store.base import ContactStore, ConversationStore, JobStore, MessageStore


class _Store(ConversationStore, MessageStore, ContactStore, Protocol):
    """The store roles the Slack notifiers use."""


log = structlog.get_logger(__name__)


def slack_notifiers(
    store: _Store, gateway: SlackGateway, posts: SlackPosts, threads: ThreadKeeper, inbox: str
) -> tuple[Notifier, ...]:
    """Every notifier the bridge runs: a new one is one line here."""
    return (
        SlackAssignmentMessage(store, gateway, posts, threads),
        SlackDeadJobReport(store, posts, inbox),
    )


class Notifiers:
    def __init__(
        self, store: JobStore, notifiers: Iterable[Notifier], on_enqueued: Callable[[], None]
    ) -> None:
        self._store = store
        self._on_enqueued = on_enqueued
        self._by_name: dict[str, Notifier] = {}
        for notifier in notifiers:
            if notifier.name in self._by_name:
                raise ValueError(f"two notifiers are called {notifier.name!r}")
            self._by_name[notifier.name] = notifier
        self.publishing = Publishing(
            frozenset(t for notifier in self._by_name.values() for t in notifier.wants),
            assessed_later=self._assessed_later(),
        )

    def _assessed_later(self) -> Callable[[Message], bool] | None:
        """When every notifier of `message.received` judges a text the assistant drafts
        on its assessment (a `judged_later` of theirs), the texts not to publish as
        received: one PUBLISH job per text fewer on the webhook's hot path."""
        judges = [n for n in self._by_name.values() if MessageReceived in n.wants]
        later = [getattr(n, "judged_later", None) for n in judges]
        if not later or None in later:
            return None
        return lambda message: all(judged(message) for judged in later if judged)

    def wanting(self, event: Event) -> list[Notifier]:
        return [n for n in self._by_name.values() if isinstance(event, n.wants)]

    def handlers(self) -> dict[JobKind, Handler]:
        return {JobKind.PUBLISH: self.publish, JobKind.NOTIFY: self.deliver}

    async def publish(self, job: Job) -> None:
        """PUBLISH: one NOTIFY job per notifier that wants the event."""
        event = load_event(job.note)
        if event is None:
            raise GiveUp("publish job without an event")
        for notifier in self.wanting(event):
            await self._store.enqueue(
                notify_job(notifier.name, event, key=job.key), run_at=utcnow()
            )
        self._on_enqueued()

    async def deliver(self, job: Job) -> None:
        """NOTIFY: one notifier tells people of one event."""
        if not job.note:
            raise GiveUp("notify job without its event")
        notice = Notice.model_validate_json(job.note)
        notifier = self._by_name.get(notice.notifier)
        if notifier is None:  # taken out of the registry since: nobody to tell
            log.info("notify.no_notifier", notifier=notice.notifier, job=job.key)
            return
        await notifier.notify(notice.event, job.key)
