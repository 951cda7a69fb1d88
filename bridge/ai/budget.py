"""The daily Claude token budget: tokens counted per day in the business's time zone,
weighted as they are billed (cache writes 1.25x, cache reads 0.1x), and kept in the
store, so every process sharing it spends from one budget."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from bridge.ai.drafter import TokenUsage
from bridge.models import utcnow
from bridge.store.base import UsageStore


def billed_tokens(usage: TokenUsage) -> int:
    return round(
        usage.input_tokens
        + usage.output_tokens
        + 1.25 * usage.cache_creation_input_tokens
        + 0.1 * usage.cache_read_input_tokens
    )


class TokenBudget:
    """`record` hears each API response (synchronously, from the engine); `settle` adds
    what was recorded to the day's counter in the store and learns the fleet's total,
    which `exhausted` compares with the limit."""

    def __init__(
        self,
        store: UsageStore,
        limit: int,
        zone: str,
        *,
        on_change: Callable[[int], None] = lambda _spent: None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.limit = limit
        self._store = store
        self._zone = ZoneInfo(zone)
        self._on_change = on_change
        self._clock = clock
        self._day = ""
        self._spent = 0  # the day's total at the last settle
        self._pending = 0

    def _key(self) -> str:
        day = self._clock().astimezone(self._zone).date().isoformat()
        if day != self._day:
            self._day, self._spent = day, 0
            self._on_change(0)
        return f"ai_tokens:{day}"

    @property
    def spent(self) -> int:
        self._key()
        return self._spent

    def exhausted(self) -> bool:
        return self.spent >= self.limit

    def record(self, usage: TokenUsage) -> None:
        self._pending += billed_tokens(usage)

    async def settle(self) -> None:
        amount, self._pending = self._pending, 0
        self._spent = await self._store.add_usage(self._key(), amount)
        self._on_change(self._spent)
