"""Stopping the outbox: a stop ends in bounded time, after the outcomes being recorded."""

from __future__ import annotations

import asyncio
from typing import cast

import pytest

from bridge.delivery.outbox import Handler, Outbox
from bridge.metrics import Metrics
from bridge.models import Job, JobKind
from bridge.store.base import Store
from tests.unit.outbox_support import JOB, OneJobStore


def outbox(store: OneJobStore, handler: Handler | None = None) -> Outbox:
    box = Outbox(cast(Store, store), Metrics(), poll_seconds=30)
    if handler is not None:
        box.register(JobKind.SYNC_HEADER, handler)
    return box


@pytest.mark.parametrize("steps", range(6))
async def test_a_stop_that_lands_with_a_wake_ends_the_loop(steps: int) -> None:
    # On Python 3.11 asyncio.wait_for swallows a cancellation that arrives just as what
    # it waits for is done; the loop then ran on and stop() waited for it forever.
    idle = outbox(OneJobStore())
    await idle.start()
    for _ in range(5):
        await asyncio.sleep(0)  # the loop waits for work
    idle.wake()  # a job finished or new work came in...
    for _ in range(steps):
        await asyncio.sleep(0)
    async with asyncio.timeout(5):  # ...and the stop lands a few steps later
        await idle.stop()


async def test_a_stop_waits_for_a_job_recording_its_outcome() -> None:
    async def done(_job: Job) -> None:
        return None

    store = OneJobStore(JOB)
    busy = outbox(store, done)
    await busy.start()
    await store.completing.wait()

    await busy.stop()

    assert store.completed == 1  # recorded before the store is closed after the stop


async def test_a_job_that_ignores_its_cancel_does_not_hold_up_the_stop() -> None:
    started = asyncio.Event()

    async def stubborn(_job: Job) -> None:
        started.set()
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            await asyncio.sleep(60)  # as a client library that swallows one cancel

    busy = outbox(OneJobStore(JOB), stubborn)
    await busy.start()
    await started.wait()

    async with asyncio.timeout(5):
        await busy.stop(grace=0.1)
