"""A notification channel is one class and one line in the registry: a test notifier
gets the events it wants, each by an outbox job of its own, and no others."""

from __future__ import annotations

from typing import Any, cast

from bridge.events import ConversationAssigned, ConversationResolved, Event, JobDied
from bridge.jobs import publish_job
from bridge.models import Job, JobKind, Model, NewJob, utcnow
from bridge.notify.registry import Notifiers
from bridge.store.base import Store


class Recorder:
    """A notification channel written for this test."""

    name = "recorder"
    wants: tuple[type[Model], ...] = (ConversationResolved, JobDied)

    def __init__(self) -> None:
        self.told: list[tuple[Event, str]] = []

    async def notify(self, event: Event, key: str) -> None:
        self.told.append((event, key))


class Jobs:
    """The store's outbox, as far as the registry uses it."""

    def __init__(self) -> None:
        self.queued: list[NewJob] = []

    async def enqueue(self, job: NewJob, *, run_at: object) -> None:
        self.queued.append(job)


def claimed(job: NewJob) -> Job:
    return Job(**job.model_dump(), attempts=1, lease_token="t", created_at=utcnow())


async def test_a_notifier_gets_the_events_it_wants_by_jobs_of_its_own() -> None:
    recorder, jobs = Recorder(), Jobs()
    registry = Notifiers(cast(Store, jobs), [recorder], on_enqueued=lambda: None)
    resolved = ConversationResolved(conversation_id=7, by="U0ANA")

    await registry.publish(claimed(publish_job(resolved, key="k1")))

    [notify] = jobs.queued
    assert notify.kind is JobKind.NOTIFY
    assert notify.lane != "conversation:7"  # a failing notifier never holds up the thread
    await registry.deliver(claimed(notify))
    assert recorder.told == [(resolved, notify.key)]


async def test_a_notifier_is_not_told_of_events_it_does_not_want() -> None:
    recorder, jobs = Recorder(), Jobs()
    registry = Notifiers(cast(Store, jobs), [recorder], on_enqueued=lambda: None)
    assigned = ConversationAssigned(conversation_id=7, assignee="U0BEN", by="U0ANA")

    await registry.publish(claimed(publish_job(assigned, key="k2")))

    assert jobs.queued == []


def test_the_registry_has_the_two_slack_notifiers_by_name() -> None:
    from bridge.notify.registry import slack_notifiers

    unused = cast(Any, None)  # the notifiers only keep their clients until they run
    notifiers = slack_notifiers(unused, unused, unused, unused, "C0INBOX")
    assert [n.name for n in notifiers] == ["slack_dm", "slack_dead_report"]
    assert [n.wants for n in notifiers] == [(ConversationAssigned,), (JobDied,)]


def test_the_registry_publishes_only_what_some_notifier_wants() -> None:
    registry = Notifiers(cast(Store, Jobs()), [Recorder()], on_enqueued=lambda: None)
    assert registry.publishing.wanted == frozenset({ConversationResolved, JobDied})
    assert registry.publishing.wants(ConversationResolved)
    assert not registry.publishing.wants(ConversationAssigned)
