"""Proactive pacing: token buckets per key (a Slack method and channel, an SMS
sender), so steady load stays under the platforms' limits instead of provoking 429s;
and holds, for the keys a platform told to wait."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from bridge.delivery.errors import RetryLater


@dataclass(frozen=True)
class Rate:
    per_second: float
    burst: int = 1


class TokenBucket:
    def __init__(self, rate: Rate, clock: Callable[[], float] = time.monotonic) -> None:
        self._rate = rate
        self._clock = clock
        self._tokens = float(rate.burst)
        self._stamp = clock()
        self._lock = asyncio.Lock()
        self._waiting = 0  # callers in acquire() who have no token yet
        self._booked_until = 0.0  # the latest turn told to a caller sent away

    def _refill(self, now: float) -> None:
        elapsed = max(0.0, now - self._stamp)
        self._tokens = min(float(self._rate.burst), self._tokens + elapsed * self._rate.per_second)
        self._stamp = now

    def delay(self) -> float:
        """Seconds until a token is free (0: one is free now). Takes nothing."""
        self._refill(self._clock())
        return max(0.0, (1.0 - self._tokens) / self._rate.per_second)

    def queued_delay(self) -> float:
        """Seconds until a newcomer gets a token, behind those already waiting."""
        self._refill(self._clock())
        return max(0.0, (self._waiting + 1.0 - self._tokens) / self._rate.per_second)

    def book(self) -> float:
        """A turn for a caller sent away: after the queue and every turn told before,
        so those sent away do not all come back at once. Seconds from now."""
        now = self._clock()
        turn = max(now + self.queued_delay(), self._booked_until + 1.0 / self._rate.per_second)
        self._booked_until = turn
        return turn - now

    def spend(self) -> None:
        """Slack said the budget is spent (a 429): no token is left for a burst."""
        self._refill(self._clock())
        self._tokens = min(self._tokens, 0.0)

    async def acquire(self) -> None:
        # The lock makes waiters take tokens in arrival order.
        self._waiting += 1
        try:
            async with self._lock:
                while (wait := self.delay()) > 0:  # noqa: ASYNC110 - a timed wait, not a signal
                    await asyncio.sleep(wait)
                self._tokens -= 1.0
        finally:
            self._waiting -= 1


class Pacing(Protocol):
    """What the callers of a platform pace with: in memory (`Pacer`, one process) or
    in the store every process shares (`shared_pacing.SharedPacer`)."""

    async def acquire(self, key: str) -> None:
        """Wait for `key`'s turn, however long."""

    async def take(self, key: str, *, within: float) -> None:
        """`key`'s turn if it comes within `within` seconds, else a throttled
        RetryLater for when it would come."""

    def hold(self, key: str, seconds: float) -> None:
        """The platform said to wait (Retry-After): `key` is held that long."""

    def held_for(self, key: str) -> float:
        """Seconds until `key` is free of its hold (0: not held)."""

    def delay(self, key: str) -> float:
        """Seconds until `key`'s next turn is free (0: now). Takes nothing."""

    async def close(self) -> None:
        """Finish what is on its way (a hold being shared)."""


class Pacer:
    """Buckets made on demand: one per key, each with the rate its kind of key has."""

    def __init__(
        self, rate_for: Callable[[str], Rate], clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._rate_for = rate_for
        self._clock = clock
        self._buckets: dict[str, TokenBucket] = {}
        self._held_until: dict[str, float] = {}

    def bucket(self, key: str) -> TokenBucket:
        found = self._buckets.get(key)
        if found is None:
            found = self._buckets[key] = TokenBucket(self._rate_for(key), self._clock)
        return found

    async def acquire(self, key: str) -> None:
        await self.bucket(key).acquire()

    def delay(self, key: str) -> float:
        return self.bucket(key).delay()

    async def close(self) -> None:
        """Nothing is ever on its way: everything is in memory."""

    async def take(self, key: str, *, within: float) -> None:
        """A token for `key` if one comes within `within` seconds; a longer queue is a
        RetryLater (throttled) for when the token would come, so a worker never sits
        out a wait that other keys' jobs could use (a Tier-3 method's backlog would
        otherwise take every worker and stall posts into every channel)."""
        bucket = self.bucket(key)
        if bucket.queued_delay() > within:
            wait = bucket.book()
            raise RetryLater(f"{key}: paced, next turn in {wait:.1f} s", after=wait, throttled=True)
        await bucket.acquire()

    def hold(self, key: str, seconds: float) -> None:
        """The platform said to wait (Retry-After): `key` is held until then. A hold
        has its own key, which may be narrower than a bucket's (one channel of a
        method paced per workspace)."""
        self._held_until[key] = max(self._held_until.get(key, 0.0), self._clock() + seconds)
        # A bucket of that same key (a method paced per channel) has no burst left: the
        # tokens it saved up would only meet 429s again after the hold.
        if (bucket := self._buckets.get(key)) is not None:
            bucket.spend()

    def held_for(self, key: str) -> float:
        """Seconds until `key` is free of its hold (0: not held)."""
        return max(0.0, self._held_until.get(key, 0.0) - self._clock())
