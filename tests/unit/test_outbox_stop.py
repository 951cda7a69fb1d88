"""Stopping the outbox: a stop ends in bounded time."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any, cast

import pytest

from bridge.delivery.outbox import Outbox
from bridge.metrics import Metrics
from bridge.models import Job
from bridge.store.base import Store


class IdleStore:
    """A store with no work: the outbox only ever waits for a wake."""

    async def claim_jobs(self, owner: str, **_: Any) -> list[Job]:
        return []

    async def extend_lease(self, job: Job, *, until: datetime) -> bool:
        return True


@pytest.mark.parametrize("steps", range(6))
async def test_a_stop_that_lands_with_a_wake_ends_the_loop(steps: int) -> None:
    # On Python 3.11 asyncio.wait_for swallows a cancellation that arrives just as what
    # it waits for is done; the loop then ran on and stop() waited for it forever.
    idle = Outbox(cast(Store, IdleStore()), {}, Metrics(), poll_seconds=30)
    await idle.start()
    for _ in range(5):
        await asyncio.sleep(0)  # the loop waits for work
    idle.wake()  # a job finished or new work came in...
    for _ in range(steps):
        await asyncio.sleep(0)
    async with asyncio.timeout(5):  # ...and the stop lands a few steps later
        await idle.stop()
