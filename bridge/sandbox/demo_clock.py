"""The demo business's wall clock. It keeps real time until a scenario sets it to a day
and hour of its own ("fri 21:30"), so a scenario "after hours" is after hours whenever
it plays; from there it runs on. The bridge reads the opening hours on this clock and
nothing else: messages, undo windows and pauses keep real time."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pydantic import PrivateAttr

from bridge.config import DAYS, Business
from bridge.models import utcnow

_WEEK_TIME = re.compile(r"(mon|tue|wed|thu|fri|sat|sun) ([01]\d|2[0-3]):([0-5]\d)")
_HOLIDAY_WEEKS = 60  # holidays on the same weekday for longer than this: a broken config


@dataclass(frozen=True)
class WeekTime:
    """A day of the week and a time of day at the business."""

    day: int  # 0 = Monday
    at: time

    @classmethod
    def parse(cls, text: str) -> WeekTime:
        match = _WEEK_TIME.fullmatch(text.strip().lower())
        if match is None:
            raise ValueError(f"{text!r}: a day and a time like 'fri 21:30' (days: mon … sun)")
        day, hour, minute = match.groups()
        return cls(DAYS.index(day), time(int(hour), int(minute)))


class DemoClock:
    def __init__(self, real: Callable[[], datetime] = utcnow) -> None:
        self.real = real
        self.offset = timedelta(0)

    def now(self) -> datetime:
        return self.real() + self.offset

    def move_to(self, when: WeekTime, business: Business) -> None:
        """Set the clock to the next `when` in the business's time zone, on a day that
        is not one of its holidays (a scenario in opening hours must find it open)."""
        zone = ZoneInfo(business.timezone)
        now = self.real().astimezone(zone)
        day = now.date() + timedelta(days=(when.day - now.weekday()) % 7)
        target = datetime.combine(day, when.at, tzinfo=zone)
        if target < now:
            target += timedelta(days=7)
        for _ in range(_HOLIDAY_WEEKS):
            if target.date().isoformat() not in business.holidays:
                break
            target += timedelta(days=7)
        # In UTC: between two times of one zone, Python subtracts the wall clocks.
        self.offset = target.astimezone(UTC) - now.astimezone(UTC)


class _ClockedBusiness(Business):
    """The business as the demo's bridge reads it: opening hours on the demo's clock."""

    _clock: DemoClock = PrivateAttr(default_factory=DemoClock)

    def seen_at(self, at: datetime) -> datetime:
        return at + self._clock.offset


def on_clock(business: Business, clock: DemoClock) -> Business:
    """`business` with its opening hours read on `clock`."""
    clocked = _ClockedBusiness.model_validate(business.model_dump())
    clocked._clock = clock
    return clocked
