"""The outbox exists before its handlers: pipelines wake it from the start, and each
job kind has one handler, registered by the edge that renders it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bridge.delivery.outbox import Outbox, RetryPolicy
from bridge.metrics import Metrics
from bridge.models import Job, JobKind, NewJob, utcnow
from bridge.store.sqlite import SQLiteStore
from tests.support import eventually


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    store = SQLiteStore(tmp_path / "bridge.db")
    await store.open()
    yield store
    await store.close()


async def test_a_kind_has_one_handler(store: SQLiteStore) -> None:
    outbox = Outbox(store, Metrics())

    async def handler(job: Job) -> None: ...

    outbox.register(JobKind.SYNC_HEADER, handler)
    with pytest.raises(ValueError, match="sync_header"):
        outbox.register(JobKind.SYNC_HEADER, handler)


async def test_work_enqueued_before_the_handler_runs_once_registered(
    store: SQLiteStore,
) -> None:
    outbox = Outbox(store, Metrics(), poll_seconds=30)
    ran: list[str] = []

    async def handler(job: Job) -> None:
        ran.append(job.key)

    await store.enqueue(NewJob(key="h:1", kind=JobKind.SYNC_HEADER, lane="l"), run_at=utcnow())
    outbox.wake()  # a pipeline built before any handler wakes the outbox
    outbox.register(JobKind.SYNC_HEADER, handler)
    await outbox.start()
    try:
        await eventually(lambda: ran == ["h:1"])
    finally:
        await outbox.stop()


async def test_a_job_nothing_handles_is_given_up_and_reported(
    store: SQLiteStore,
) -> None:
    outbox = Outbox(store, Metrics(), poll_seconds=0.01, policy=RetryPolicy(first_delay=0.01))
    reported: list[Job] = []

    async def report(job: Job) -> None:
        reported.append(job)

    outbox.register(JobKind.PUBLISH, report)  # a dead job is published as JobDied
    job = NewJob(key="a:1", kind=JobKind.APPOINTMENT_WEBHOOK, lane="l")
    await store.enqueue(job, run_at=utcnow())
    await outbox.start()
    try:
        await eventually(lambda: bool(reported))
    finally:
        await outbox.stop()
    assert "appointment_webhook" in (reported[0].note or "")
    assert reported[0].attempts == 1  # given up at once, not after every retry
