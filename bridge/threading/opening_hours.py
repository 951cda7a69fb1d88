"""Is a business number open now, and when does it open next: the one answer every
part of the bridge asks (the assistant's auto-reply, the away reply, the Slack cards).

Closed on the configured holidays, on the public holidays of `holidays_country`, and
while the away switch is on; per-number overrides come from `business.numbers`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bridge.config import DAYS, Business, Schedule
from bridge.models import Away

if TYPE_CHECKING:
    from holidays import HolidayBase

# Hours that open once in a fortnight or less are found; past that: never opens.
_LOOKAHEAD_DAYS = 15
# Open spans a deadline may cross (two a day for a year): a bound, not a policy.
_MAX_SPANS = 750


@dataclass(frozen=True)
class Opening:
    """The answer for one moment. Times are in the number's time zone."""

    at: datetime  # the moment asked about, in the number's time zone
    open: bool
    until: datetime | None = None  # open: when it closes
    next_open: datetime | None = None  # closed: when it opens (None: not known)
    away: Away | None = None  # closed by hand


@cache
def _public_holidays(country: str) -> HolidayBase:
    # Imported only where a country is set: the package costs the process ~3 MiB.
    import holidays

    code, _, subdivision = country.partition("-")
    return holidays.country_holidays(code, subdiv=subdivision or None)


def _closed_day(schedule: Schedule, day: date) -> bool:
    if day.isoformat() in schedule.holidays:
        return True
    return schedule.holidays_country is not None and day in _public_holidays(
        schedule.holidays_country
    )


def _scheduled(schedule: Schedule, local: datetime) -> Opening:
    """The opening hours alone, at `local`."""
    zone = local.tzinfo
    for offset in range(_LOOKAHEAD_DAYS):
        day = local.date() + timedelta(days=offset)
        if _closed_day(schedule, day):
            continue
        for start, end in sorted(schedule.spans(DAYS[day.weekday()])):
            opens = datetime.combine(day, start, tzinfo=zone)
            closes = datetime.combine(day, end, tzinfo=zone)
            if opens <= local < closes:
                return Opening(local, open=True, until=closes)
            if local < opens:
                return Opening(local, open=False, next_open=opens)
    return Opening(local, open=False)


def opening(
    business: Business, business_number: str | None, at: datetime, away: Away | None = None
) -> Opening:
    """Open at `at` or not, for `business_number` (None: the business's own hours).
    While `away` is on it is closed, and opens at the first opening hour from its end."""
    schedule = business.schedule(business_number)
    zone = ZoneInfo(schedule.timezone)
    local = business.seen_at(at).astimezone(zone)
    if away is not None:
        end = None if away.until is None else business.seen_at(away.until).astimezone(zone)
        if end is None or local < end:
            after = None if end is None else _scheduled(schedule, end)
            next_open = None if after is None else after.at if after.open else after.next_open
            return Opening(local, open=False, next_open=next_open, away=away)
    return _scheduled(schedule, local)


def business_deadline(
    business: Business,
    business_number: str | None,
    start: datetime,
    minutes: int,
    away: Away | None = None,
) -> datetime | None:
    """`start` plus `minutes` open minutes of `business_number`: closed time (nights,
    weekends, holidays, the away switch from its start to its end) does not count.
    Without opening hours every minute counts but the away switch's. None: it never
    opens again as far as is known (away with no end)."""
    left = timedelta(minutes=minutes)
    hours_set = bool(business.schedule(business_number).hours)
    at = start
    for _ in range(_MAX_SPANS):
        if away is not None and away.since <= at and (away.until is None or at < away.until):
            if away.until is None:
                return None
            at = away.until  # closed by hand until then
            continue
        span = left  # without opening hours: open
        if hours_set:
            # Stepped by the lengths `opening` reads (where the demo may move the
            # business's clock), so the deadline stays in the caller's time.
            hours = opening(business, business_number, at)
            if not hours.open:
                if hours.next_open is None:
                    return None
                at += hours.next_open - hours.at
                continue
            assert hours.until is not None
            span = hours.until - hours.at
        if away is not None and at < away.since:
            span = min(span, away.since - at)  # open until someone switched away
        if span >= left:
            return at + left
        left -= span
        at += span
    return None


def when_text(moment: datetime, now: datetime) -> str:
    """`moment` for people, in its own time zone, from `now`: "today at 9:00",
    "tomorrow at 9:00", "Monday at 9:00", "Monday, Dec 14 at 9:00"."""
    local_now = now.astimezone(moment.tzinfo)
    clock = f"{moment.hour}:{moment.minute:02d}"
    days = (moment.date() - local_now.date()).days
    if days <= 0:
        return f"today at {clock}"
    if days == 1:
        return f"tomorrow at {clock}"
    if days < 7:
        return f"{moment:%A} at {clock}"
    return f"{moment:%A, %b} {moment.day} at {clock}"
