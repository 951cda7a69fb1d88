"""The daily Claude token budget: spent tokens counted per day in the business's time
zone, weighted as they are billed (cache writes 1.25x, cache reads 0.1x)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bridge.ai.drafter import TokenUsage
from bridge.models import utcnow


def billed_tokens(usage: TokenUsage) -> int:
    return round(
        usage.input_tokens
        + usage.output_tokens
        + 1.25 * usage.cache_creation_input_tokens
        + 0.1 * usage.cache_read_input_tokens
    )


class TokenBudget:
    """Per process: with several instances each keeps its own count, so the fleet may
    spend up to instances x limit a day."""

    def __init__(
        self,
        limit: int,
        zone: str,
        *,
        on_change: Callable[[int], None] = lambda _spent: None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.limit = limit
        self._zone = ZoneInfo(zone)
        self._on_change = on_change
        self._clock = clock
        self._day: date | None = None
        self._spent = 0

    def _today(self) -> None:
        day = self._clock().astimezone(self._zone).date()
        if day != self._day:
            self._day, self._spent = day, 0
            self._on_change(0)

    @property
    def spent(self) -> int:
        self._today()
        return self._spent

    def exhausted(self) -> bool:
        return self.spent >= self.limit

    def add(self, usage: TokenUsage) -> None:
        self._today()
        self._spent += billed_tokens(usage)
        self._on_change(self._spent)
