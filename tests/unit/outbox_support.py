"""A one-job store for the outbox's unit tests."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from bridge.models import Job, JobKind, utcnow

JOB = Job(
    key="h:1",
    kind=JobKind.SYNC_HEADER,
    lane="lane:a",
    attempts=1,
    lease_token="w1:token",
    created_at=utcnow(),
)


class OneJobStore:
    """A store with one due job, or none; it counts the outcomes it records."""

    def __init__(self, *jobs: Job) -> None:
        self.jobs = list(jobs)
        self.completing = asyncio.Event()
        self.completed = 0

    async def claim_jobs(self, owner: str, **_: Any) -> list[Job]:
        claimed, self.jobs = self.jobs, []
        return claimed

    async def extend_lease(self, job: Job, *, until: datetime) -> bool:
        return True

    async def complete_job(self, job: Job) -> bool:
        self.completing.set()
        await asyncio.sleep(0.2)  # a slow disk
        self.completed += 1
        return True
