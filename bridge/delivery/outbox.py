"""The outbox worker: runs stored jobs, one at a time per lane, many lanes at once.

Jobs are leased, not locked: a worker that dies leaves its jobs to expire and be
claimed again, by this process after a restart or by another one on the same store.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog

from bridge.delivery.errors import GiveUp, RetryLater
from bridge.jobs import job_died, publish_job, reports_dead_job
from bridge.metrics import Metrics
from bridge.models import Job, JobKind, utcnow
from bridge.store.base import JobStore, StoreConflict, StoreUnavailable

Handler = Callable[[Job], Awaitable[None]]
# Farther ahead than this, the regular poll is close enough and no timer is kept.
MAX_TIMED_WAKE = 300.0

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    first_delay: float = 1.0
    max_delay: float = 300.0
    # About 1.5 h of retries with the defaults: a Slack outage of that length still
    # delivers; past it a person is told (REPORT_DEAD) instead of waiting silently.
    max_attempts: int = 25

    def delay(self, attempts: int) -> float:
        base = min(self.max_delay, self.first_delay * 2.0 ** max(0, attempts - 1))
        return base * random.uniform(0.8, 1.2)  # jitter: retries of a burst spread out


class Outbox:
    def __init__(
        self,
        store: JobStore,
        metrics: Metrics,
        *,
        concurrency: int = 8,
        lease_seconds: float = 30.0,
        poll_seconds: float = 0.5,
        policy: RetryPolicy = RetryPolicy(),
    ) -> None:
        self._store = store
        self._handlers: dict[JobKind, Handler] = {}
        self._metrics = metrics
        self._concurrency = concurrency
        self._lease = lease_seconds
        self._poll = poll_seconds
        self._policy = policy
        self._owner = uuid.uuid4().hex[:12]
        self._wake = asyncio.Event()
        self._running: dict[asyncio.Task[None], Job] = {}  # jobs whose handler runs
        self._jobs: set[asyncio.Task[None]] = set()  # those and jobs recording an outcome
        self._tasks: list[asyncio.Task[None]] = []

    def register(self, kind: JobKind, handler: Handler) -> None:
        """The one handler of `kind`. The outbox exists before its handlers, so
        whatever enqueues work can wake it from the start."""
        if kind in self._handlers:
            raise ValueError(f"a handler for {kind.value} is registered already")
        self._handlers[kind] = handler

    def wake(self) -> None:
        """New work was stored: look now instead of at the next poll."""
        self._wake.set()

    def wake_at(self, when: datetime) -> None:
        """Work stored for later (an undo window, a Retry-After): look exactly then,
        rather than up to a poll interval after."""
        delay = (when - utcnow()).total_seconds()
        if delay <= 0:
            self.wake()
        elif delay < MAX_TIMED_WAKE:
            asyncio.get_running_loop().call_later(delay, self.wake)

    async def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._loop(), name="outbox"),
            asyncio.create_task(self._heartbeat(), name="outbox-heartbeat"),
        ]

    async def stop(self, grace: float = 5.0) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        # Jobs still running after the grace period keep their lease and run again
        # after it expires: a stop delays work, it never drops it. Jobs recording their
        # outcome are waited for too: the store is closed next.
        if not self._jobs:
            return
        _, pending = await asyncio.wait(list(self._jobs), timeout=grace)
        for task in pending:
            task.cancel()
        if pending:
            # A client library may not heed a cancel at once: the stop still ends.
            _, ignored = await asyncio.wait(pending, timeout=grace)
            if ignored:
                log.warning("outbox.stop_left_jobs", jobs=[t.get_name() for t in ignored])

    async def _loop(self) -> None:
        while True:
            self._wake.clear()
            claimed = 0
            free = self._concurrency - len(self._running)
            if free > 0:
                try:
                    jobs = await self._store.claim_jobs(
                        self._owner, now=utcnow(), limit=free, lease_seconds=self._lease
                    )
                except StoreUnavailable:
                    jobs = []  # the store logged why, once, and says when it works again
                except Exception:
                    log.exception("outbox.claim_failed")
                    jobs = []
                claimed = len(jobs)
                for job in jobs:
                    task = asyncio.create_task(self._execute(job), name=f"job:{job.key}")
                    self._running[task] = job
                    self._jobs.add(task)
                    task.add_done_callback(self._forget)
            if claimed == 0 or claimed == free:
                # Nothing due, or every slot busy: wait for a finished job or new work.
                # Not wait_for: on Python 3.11 it swallows a stop() that lands as a wake
                # does, and this loop would never end.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._poll):
                        await self._wake.wait()

    def _forget(self, task: asyncio.Task[None]) -> None:
        self._running.pop(task, None)
        self._jobs.discard(task)

    async def _heartbeat(self) -> None:
        """Renew the leases of running jobs, so a job that waits on pacing longer than
        a lease is never taken for dead and run a second time elsewhere."""
        while True:
            await asyncio.sleep(self._lease / 3)
            until = utcnow() + timedelta(seconds=self._lease)
            for task, job in list(self._running.items()):
                try:
                    kept = await self._store.extend_lease(job, until=until)
                except StoreUnavailable:
                    continue  # nobody can take the job over while the store refuses writes
                except Exception:
                    log.exception("outbox.heartbeat_failed", job=job.key)
                    continue
                # Not kept, and still running: another worker took it over (this one
                # stalled past its lease): stop, so the job does not run twice at once.
                # One that finished meanwhile gave up its lease to record its outcome,
                # which must not be stopped (the job would run again a lease later).
                if not kept and task in self._running:
                    log.warning("outbox.lease_lost", job=job.key)
                    task.cancel()

    async def _execute(self, job: Job) -> None:
        kind = job.kind.value
        try:
            try:
                handler = self._handlers.get(job.kind)
                if handler is None:  # e.g. a feature switched off after its jobs were stored
                    raise GiveUp(f"nothing handles {kind} jobs in this configuration")
                await handler(job)
            finally:
                # Settling (below) is out of the heartbeat's reach: a lost lease may
                # stop a handler, never the recording of its outcome.
                self._running.pop(asyncio.current_task(), None)  # type: ignore[arg-type]
        except RetryLater as exc:
            await self._retry(job, exc)
        except (GiveUp, StoreConflict) as exc:
            # A conflict in the store fails the same way on every retry: give up now.
            await self._give_up(job, str(exc))
        except StoreUnavailable as exc:
            # Not the job's failure, and logged once by the store: try again soon,
            # without using up an attempt.
            run_at = utcnow() + timedelta(seconds=self._policy.delay(1))
            cause = str(exc)
            await self._settle(
                lambda: self._store.retry_job(job, run_at=run_at, error=cause, counted=False),
                job,
            )
        except Exception as exc:
            log.exception("outbox.job_crashed", job=job.key, kind=kind)
            await self._retry(job, RetryLater(f"{type(exc).__name__}: {exc}"))
        else:
            await self._settle(lambda: self._store.complete_job(job), job)
            self._metrics.jobs.labels(kind, "done").inc()
        finally:
            self.wake()  # this lane's next job may be due now

    async def _settle(self, write: Callable[[], Awaitable[bool]], job: Job) -> None:
        """Record a job's outcome, once the store takes writes. If it fails otherwise,
        the lease runs out and the job runs again: handlers are written to be re-run."""
        while True:
            try:
                await write()
                return
            except StoreUnavailable:
                # The store refuses writes (it logged why, once): keep the outcome until
                # it takes them again, rather than leave the lease to run out, which
                # would hold the job's lane up till then and run a finished job again.
                await asyncio.sleep(self._poll)
            except Exception:
                log.exception("outbox.settle_failed", job=job.key)
                return

    async def _retry(self, job: Job, exc: RetryLater) -> None:
        endless = exc.throttled or reports_dead_job(job)
        if not endless and job.attempts >= self._policy.max_attempts:
            await self._give_up(job, f"{exc} (after {job.attempts} attempts)")
            return
        delay = exc.after if exc.after is not None else self._policy.delay(job.attempts)
        self._metrics.retries.labels(job.kind.value).inc()
        # Waiting for a pace or a platform is routine; a failure is worth a warning.
        report = log.debug if exc.throttled else log.warning
        report("outbox.retry", job=job.key, attempt=job.attempts, delay=delay, error=str(exc))
        run_at = utcnow() + timedelta(seconds=delay)
        await self._settle(
            lambda: self._store.retry_job(
                job, run_at=run_at, error=str(exc), counted=not exc.throttled
            ),
            job,
        )
        self.wake_at(run_at)

    async def _give_up(self, job: Job, error: str) -> None:
        log.error("outbox.dead", job=job.key, error=error)
        if not await self._store.kill_job(job, error=error):
            return
        self._metrics.jobs.labels(job.kind.value, "dead").inc()
        self._metrics.dead.labels(job.kind.value).inc()
        if not reports_dead_job(job):  # people hear of it through `notify/`
            await self._store.enqueue(
                publish_job(job_died(job, error), key=f"dead:{job.key}"), run_at=utcnow()
            )
