"""Proactive pacing: token buckets per key (a Slack method and channel, an SMS
sender), so steady load stays under the platforms' limits instead of provoking 429s."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass


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
        self._blocked_until = 0.0
        self._lock = asyncio.Lock()

    def block(self, seconds: float) -> None:
        """The platform said to wait (Retry-After): nobody takes a token until then."""
        self._blocked_until = max(self._blocked_until, self._clock() + seconds)
        self._tokens = 0.0

    def _refill(self, now: float) -> None:
        elapsed = max(0.0, now - self._stamp)
        self._tokens = min(float(self._rate.burst), self._tokens + elapsed * self._rate.per_second)
        self._stamp = now

    def delay(self) -> float:
        """Seconds until a token is free (0: one is free now). Takes nothing."""
        now = self._clock()
        self._refill(now)
        wait_block = max(0.0, self._blocked_until - now)
        wait_token = max(0.0, (1.0 - self._tokens) / self._rate.per_second)
        return max(wait_block, wait_token)

    async def acquire(self) -> None:
        # The lock makes waiters take tokens in arrival order.
        async with self._lock:
            while (wait := self.delay()) > 0:  # noqa: ASYNC110 - a timed wait, not a signal
                await asyncio.sleep(wait)
            self._tokens -= 1.0


class Pacer:
    """Buckets made on demand: one per key, each with the rate its kind of key has."""

    def __init__(
        self, rate_for: Callable[[str], Rate], clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._rate_for = rate_for
        self._clock = clock
        self._buckets: dict[str, TokenBucket] = {}

    def bucket(self, key: str) -> TokenBucket:
        found = self._buckets.get(key)
        if found is None:
            found = self._buckets[key] = TokenBucket(self._rate_for(key), self._clock)
        return found

    async def acquire(self, key: str) -> None:
        await self.bucket(key).acquire()

    def block(self, key: str, seconds: float) -> None:
        self.bucket(key).block(seconds)
