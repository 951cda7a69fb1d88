"""The heartbeat renews the leases of running jobs, and stops a job another worker took
over. A job that finished while its lease was being renewed was not taken over: its
lease is gone because its outcome is being recorded, and that recording is not stopped."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import cast

from bridge.delivery.outbox import Outbox
from bridge.metrics import Metrics
from bridge.models import Job, JobKind
from bridge.store.base import Store
from tests.unit.outbox_support import JOB, OneJobStore


class SlowRenewals(OneJobStore):
    """A store whose lease renewal is still on its way when the job finishes, and comes
    back "not kept": the completion removed the job meanwhile."""

    def __init__(self) -> None:
        super().__init__(JOB)
        self.renewing = asyncio.Event()
        self.answered = asyncio.Event()

    async def extend_lease(self, job: Job, *, until: datetime) -> bool:
        self.renewing.set()
        await self.completing.wait()
        self.answered.set()
        return False

    async def complete_job(self, job: Job) -> bool:
        self.completing.set()
        await self.answered.wait()  # the renewal's answer comes while this write is on its way
        for _ in range(5):
            await asyncio.sleep(0)
        self.completed += 1
        return True


async def test_a_job_that_finishes_while_its_lease_is_renewed_records_its_outcome() -> None:
    store = SlowRenewals()

    async def handler(_job: Job) -> None:
        await store.renewing.wait()  # finishes while the heartbeat renews its lease

    box = Outbox(cast(Store, store), Metrics(), poll_seconds=30, lease_seconds=0.03)
    box.register(JobKind.SYNC_HEADER, handler)
    await box.start()
    await store.answered.wait()
    for _ in range(10):  # the heartbeat acts on the answer
        await asyncio.sleep(0)
    await box.stop()
    assert store.completed == 1


class TakenOver(SlowRenewals):
    """A store where another worker took the job over while its handler still runs."""

    async def extend_lease(self, job: Job, *, until: datetime) -> bool:
        self.renewing.set()
        return False


async def test_a_job_taken_over_while_it_runs_is_stopped_here() -> None:
    store = TakenOver()
    stopped = asyncio.Event()

    async def handler(_job: Job) -> None:
        try:
            await asyncio.Event().wait()  # stalled: its lease ran out
        except asyncio.CancelledError:
            stopped.set()
            raise

    box = Outbox(cast(Store, store), Metrics(), poll_seconds=30, lease_seconds=0.03)
    box.register(JobKind.SYNC_HEADER, handler)
    await box.start()
    await stopped.wait()
    await box.stop()
    assert store.completed == 0  # its outcome is the other worker's to record
