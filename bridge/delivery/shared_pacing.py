"""Pacing kept in the store, for several processes (or hosts) on one store: a key's
budget (a Slack channel's posts, an SMS sender's texts) is spent by all of them
together, and a platform's "wait" heard by one holds the key for every one.

Each turn is one store round trip; the reads between turns (`delay`, `held_for`)
answer from what this process last heard, so none costs a round trip. While the store
refuses writes, a process paces in its own memory (a Slack listener's look-up still
gets its turn); nothing that needs the store gets done then anyway."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable, Coroutine
from typing import Any

import structlog

from bridge.delivery.errors import RetryLater
from bridge.delivery.pacing import Pacer, Pacing, Rate
from bridge.store.base import PaceStore, StoreUnavailable

log = structlog.get_logger(__name__)

# How often a key's hold is read again from the store while callers ask about it: a
# hold another process heard of for a key this process never takes turns of (one
# channel of a method paced per workspace) reaches it within this.
HOLD_CHECK_SECONDS = 1.0
# How long closing waits for holds still on their way to the store.
CLOSE_SECONDS = 5.0
# `acquire` waits for its turn however far off: no finite wait refuses it.
FOREVER = 1e9


def make_pacer(rate_for: Callable[[str], Rate], *, shared: PaceStore | None) -> Pacing:
    """In memory for a process alone; through `shared` when several pace together."""
    return Pacer(rate_for) if shared is None else SharedPacer(shared, rate_for)


class SharedPacer:
    """`Pacing` over the store's `PaceStore` (GCRA per key): the rate's interval apart,
    a burst's worth early at most."""

    def __init__(
        self,
        store: PaceStore,
        rate_for: Callable[[str], Rate],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._rate_for = rate_for
        self._clock = clock
        self._free_at: dict[str, float] = {}  # when a newcomer's turn comes, as last heard
        self._held_until: dict[str, float] = {}
        self._checked_at: dict[str, float] = {}  # when a key's hold was last read
        self._pending: set[asyncio.Task[None]] = set()  # holds and reads on their way
        self._alone = Pacer(rate_for, clock)  # while the store refuses writes

    def _spacing(self, key: str) -> tuple[float, float]:
        """The interval between turns, and how early a turn may come (a burst)."""
        rate = self._rate_for(key)
        interval = 1.0 / rate.per_second
        return interval, (rate.burst - 1) * interval

    async def take(self, key: str, *, within: float) -> None:
        interval, tolerance = self._spacing(key)
        try:
            turn = await self._store.reserve_pace(
                key, interval=interval, tolerance=tolerance, within=within
            )
        except StoreUnavailable:
            try:
                await self._alone.take(key, within=within)
            finally:
                self._free_at[key] = self._clock() + self._alone.delay(key)
            return
        now = self._clock()
        self._free_at[key] = now + turn.free_in
        self._heard_hold(key, now, turn.held_for)
        if not turn.taken:
            raise RetryLater(
                f"{key}: paced, next turn in {turn.wait:.1f} s", after=turn.wait, throttled=True
            )
        if turn.wait > 0:
            await asyncio.sleep(turn.wait)

    async def acquire(self, key: str) -> None:
        await self.take(key, within=FOREVER)

    def hold(self, key: str, seconds: float) -> None:
        now = self._clock()
        self._heard_hold(key, now, seconds)
        # The burst is spent: the next turn is the hold's end at the earliest.
        self._free_at[key] = max(self._free_at.get(key, 0.0), now + seconds)
        self._alone.hold(key, seconds)
        _, tolerance = self._spacing(key)
        self._run(self._store.hold_pace(key, seconds=seconds, tolerance=tolerance))

    def held_for(self, key: str) -> float:
        now = self._clock()
        if now - self._checked_at.get(key, -math.inf) >= HOLD_CHECK_SECONDS:
            self._checked_at[key] = now
            self._run(self._read_hold(key))
        return max(0.0, self._held_until.get(key, 0.0) - now)

    def delay(self, key: str) -> float:
        return max(0.0, self._free_at.get(key, 0.0) - self._clock())

    async def close(self) -> None:
        if self._pending:
            await asyncio.wait(self._pending, timeout=CLOSE_SECONDS)
        for task in list(self._pending):
            task.cancel()

    async def _read_hold(self, key: str) -> None:
        held_for = await self._store.pace_held(key)
        self._heard_hold(key, self._clock(), held_for)

    def _heard_hold(self, key: str, now: float, held_for: float) -> None:
        # Never shortened: this process's own hold may not have reached the store yet.
        if held_for > 0:
            self._held_until[key] = max(self._held_until.get(key, 0.0), now + held_for)

    def _run(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._pending.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._pending.discard(task)
        if task.cancelled() or (error := task.exception()) is None:
            return
        # Pacing goes on from what this process knows. A store refusing writes says so
        # itself, once; anything else is said here.
        if not isinstance(error, StoreUnavailable):
            log.warning("pacing.store_failed", error=f"{type(error).__name__}: {error}")
