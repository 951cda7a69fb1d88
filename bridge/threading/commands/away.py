"""`/sms away`: close the business by hand (an unplanned closure), until a time or
until it is turned off; every process reads the switch from the store."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

from bridge.config import DAYS
from bridge.jobs import home_job
from bridge.models import Away, utcnow
from bridge.threading.commands.answers import Answer, AwayState, AwayUnclear
from bridge.threading.commands.grammar import Arg
from bridge.threading.commands.spec import Call, Spec
from bridge.threading.opening_hours import opening

_CLOCK = re.compile(r"(\d{1,2})(?::(\d{2}))?\s*(am|pm)?", re.IGNORECASE)
_SPAN = re.compile(r"(\d{1,4})\s*(m|min|mins|h|hr|hrs|hours?|d|days?)", re.IGNORECASE)
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}
_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _clock(text: str) -> time | None:
    match = _CLOCK.fullmatch(text.strip())
    if not match:
        return None
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    meridiem = (match.group(3) or "").lower()
    if meridiem:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if meridiem == "pm" else 0)
    return time(hour, minute) if hour < 24 and minute < 60 else None


def _day(word: str, today: date) -> date | None:
    word = word.lower()
    if word == "today":
        return today
    if word == "tomorrow":
        return today + timedelta(days=1)
    if word in DAYS or word in _DAY_NAMES:
        weekday = (DAYS if word in DAYS else _DAY_NAMES).index(word)
        return today + timedelta(days=(weekday - today.weekday() - 1) % 7 + 1)  # the next one
    try:
        return date.fromisoformat(word)
    except ValueError:
        return None


def read_when(text: str, now: datetime) -> datetime | None:
    """`until …` as people write it, read in `now`'s time zone: "17:00", "5pm",
    "tomorrow", "monday 9:00", "2026-12-24 12:00", "2h", "90m", "3d". A day without a
    time means from its start. None: not understood, or not in the future."""
    if span := _SPAN.fullmatch(text.strip()):
        unit = _UNITS[span.group(2)[0].lower()]
        return now + timedelta(**{unit: int(span.group(1))})
    first, _, rest = text.strip().partition(" ")
    day = _day(first, now.date())
    if day is None:
        at = _clock(text)
        if at is None:
            return None
        moment = datetime.combine(now.date(), at, tzinfo=now.tzinfo)
        return moment if moment > now else moment + timedelta(days=1)
    at = _clock(rest) if rest.strip() else time(0, 0)
    if at is None:
        return None
    moment = datetime.combine(day, at, tzinfo=now.tzinfo)
    return moment if moment > now else None


async def _away(call: Call) -> Answer:
    store, business = call.services.store, call.services.business
    number = call.services.business_number
    words = call.command.text.split(maxsplit=1)
    switch = words[0].lower() if words else ""
    now = utcnow()
    if switch == "off":
        await store.set_away(None)
    elif switch == "on":
        until: datetime | None = None
        rest = words[1] if len(words) > 1 else ""
        if rest:
            keyword, _, when = rest.partition(" ")
            # On the business's clock, in its time zone (the demo moves that clock).
            local_now = opening(business, number, now).at
            end = read_when(when, local_now) if keyword.lower() == "until" else None
            if end is None:
                return AwayUnclear(rest)
            until = now + (end - local_now)
        await store.set_away(Away(since=now, until=until, by=call.user))
    elif switch:
        return AwayUnclear(call.command.text)
    if switch:  # App Home shows open or closed
        await store.enqueue(home_job(), run_at=now)
    return AwayState(opening(business, number, now, await store.away()), switch or None)


AWAY = Spec(
    "away",
    "away",
    _away,
    (Arg.SWITCH,),
    "close by hand: texts get the away reply, the assistant answers as after hours",
    "away on until tomorrow 9:00",
)
COMMANDS = (AWAY,)
