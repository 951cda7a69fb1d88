"""Free times for appointments (`ai.tools.availability`): when a customer asks to book
or move an appointment to a day ("Can I move my appointment to Friday?"), the assistant
offers that day's free slots; the customer's pick becomes the appointment wish (the card
and the webhook, as without availability).

The slots come from the business: an endpoint of free slots (`SlotEndpoint`) or an
iCalendar feed of busy times (`BusyCalendar`, repeats expanded), read with the aiohttp
client, bounded in size and time, and reused for `cache_seconds`. A failure is logged
once (naming the setting) until the source works again, and the wish then goes to a
person as it would without availability.
"""

from __future__ import annotations

import abc
import asyncio
import json
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import structlog

from bridge.ai.drafter import Draft, Turn
from bridge.ai.knowledge import BusinessProfile, KnowledgeBase
from bridge.ai.tools import ToolFailed, Tools
from bridge.availability_settings import AvailabilityTool
from bridge.config import DAYS, expand_days

log = structlog.get_logger(__name__)

MAX_JSON_BYTES = 64 * 1024
MAX_ICS_BYTES = 1024 * 1024
MAX_EVENTS = 5000  # busy events of one day read from a feed
OFFER_OPENING = "We have these times free on"  # how an offer starts: a reply is read against it

_WEEKDAYS = {
    "mon": 0, "monday": 0, "tue": 1, "tues": 1, "tuesday": 1, "wed": 2, "wednesday": 2,
    "thu": 3, "thur": 3, "thurs": 3, "thursday": 3, "fri": 4, "friday": 4,
    "sat": 5, "saturday": 5, "sun": 6, "sunday": 6,
}  # fmt: skip
_DAY = re.compile(r"\b(today|tonight|tomorrow|tmrw?|" + "|".join(_WEEKDAYS) + r")\b", re.I)
# A time of day named in a text: "at 3", "3pm", "15:00", "noon".
_TIME = re.compile(r"\b(at \d{1,2}\b|\d{1,2}(:\d{2})?\s*(am|pm)\b|\d{1,2}:\d{2}\b|noon\b)", re.I)
_OFFER = re.compile(re.escape(OFFER_OPENING) + r" (?P<day>[^:]+): (?P<times>[\d:, and]+)\.")
_SLOT = re.compile(r"\d{1,2}:\d{2}")


def day_asked(text: str, today: date) -> date | None:
    """The day a text asks about, the next such day after `today` (None: no day, or a
    time named too: then the wish is complete already)."""
    if _TIME.search(text):
        return None
    found = _DAY.search(text)
    if found is None:
        return None
    word = found.group(1).lower()
    if word in ("today", "tonight"):
        return today
    if word.startswith("t") and word not in _WEEKDAYS:  # tomorrow, tmrw, tmr
        return today + timedelta(days=1)
    # A weekday named on that very day is next week's: today is "today".
    return today + timedelta(days=(_WEEKDAYS[word] - today.weekday() - 1) % 7 + 1)


def day_label(day: date) -> str:
    return day.strftime("%A, %b %-d")


def slot_label(slot: clock_time) -> str:
    return f"{slot.hour}:{slot.minute:02d}"


def offer_text(day: date, slots: Sequence[clock_time]) -> str:
    labels = [slot_label(s) for s in slots]
    listed = labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]
    return f"{OFFER_OPENING} {day_label(day)}: {listed}. Which one suits you?"


def chosen_slot(offer: str, answer: str) -> str | None:
    """The appointment a customer picked from an offer of ours ("Friday, Mar 6 at
    10:30"), when their answer names exactly one of its times."""
    found = _OFFER.match(offer)
    if found is None:
        return None
    text = answer.lower().replace(".", ":")
    picked = []
    for label in _SLOT.findall(found.group("times")):
        hour, minute = (int(part) for part in label.split(":"))
        forms = [label, f"{hour:02d}:{minute:02d}"]
        if minute == 0:
            twelve = hour % 12 or 12
            forms += [f"{twelve}{half}" for half in ("am", " am", "pm", " pm")]
            forms += [str(hour), str(twelve)]  # "9 or 10:30": both named
        if any(re.search(rf"(?<![\d:]){re.escape(form)}(?![\d:])", text) for form in forms):
            picked.append(label)
    return f"{found.group('day')} at {picked[0]}" if len(picked) == 1 else None


def open_span(profile: BusinessProfile, day: date) -> tuple[clock_time, clock_time] | None:
    """The business's opening hours on `day` (None: closed, a holiday included)."""
    if day.isoformat() in profile.holidays:
        return None
    name = DAYS[day.weekday()]
    for spec, span in profile.hours:
        if name in expand_days(spec):
            start, end = (clock_time.fromisoformat(part.strip()) for part in span.split("-"))
            return start, end
    return None


@dataclass
class _Cached:
    until: float
    value: Any


class FreeSlots(abc.ABC):
    """Where free slots come from (an endpoint or a busy-times feed: the subclasses);
    caches answers and logs a failure once."""

    setting = "ai.tools.availability"

    def __init__(
        self,
        session: aiohttp.ClientSession,
        url: str,
        *,
        timeout: float = 3.0,
        headers: dict[str, str] | None = None,
        cache_seconds: float = 60.0,
        max_slots: int = 6,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._session = session
        self._url = url
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._headers = headers or {}
        self._cache_seconds = cache_seconds
        self._clock = clock
        self._cache: dict[str, _Cached] = {}
        self._failing = False
        self.max_slots = max_slots

    async def free_on(
        self, day: date, profile: BusinessProfile | None, *, after: datetime
    ) -> list[clock_time]:
        """The day's free start times (after `after`), earliest first; ToolFailed when
        the business's source cannot say."""
        zone = ZoneInfo(profile.timezone if profile else "UTC")
        try:
            slots = await self._slots(day, profile, zone)
        except ToolFailed as exc:
            if not self._failing:
                log.warning("availability unavailable", setting=self.setting, error=str(exc))
            self._failing = True
            raise
        self._failing = False
        now = after.astimezone(zone)
        return [s for s in slots if day > now.date() or (day == now.date() and s > now.time())]

    @abc.abstractmethod
    async def _slots(
        self, day: date, profile: BusinessProfile | None, zone: ZoneInfo
    ) -> list[clock_time]:
        """The day's free start times, as the source says."""

    async def _get(self, key: str, params: dict[str, str], limit: int) -> bytes:
        """The source's answer (cached for `cache_seconds` under `key`)."""
        cached = self._cache.get(key)
        if cached is not None and cached.until > self._clock():
            return bytes(cached.value)
        try:
            async with self._session.get(
                self._url, params=params, headers=self._headers, timeout=self._timeout
            ) as response:
                if response.status != 200:
                    raise ToolFailed(f"{self.setting} answered HTTP {response.status}")
                raw = await response.content.read(limit + 1)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise ToolFailed(f"{self.setting} unreachable: {type(exc).__name__}") from exc
        if len(raw) > limit:
            raise ToolFailed(f"{self.setting} answered more than {limit // 1024} KB")
        if len(self._cache) > 64:  # a day per key: keep the cache small
            self._cache.clear()
        self._cache[key] = _Cached(self._clock() + self._cache_seconds, raw)
        return raw


class SlotEndpoint(FreeSlots):
    """`url`: GET `url?date=YYYY-MM-DD` answers `{"slots": ["09:00", "10:30"]}`."""

    setting = "ai.tools.availability.url"

    async def _slots(
        self, day: date, profile: BusinessProfile | None, zone: ZoneInfo
    ) -> list[clock_time]:
        raw = await self._get(day.isoformat(), {"date": day.isoformat()}, MAX_JSON_BYTES)
        try:
            data = json.loads(raw)
            listed = data["slots"]
            slots = {clock_time.fromisoformat(str(item)[:5]) for item in listed[:200]}
        except (ValueError, KeyError, TypeError):
            raise ToolFailed(f'{self.setting} did not answer {{"slots": ["HH:MM", ...]}}') from None
        return sorted(slots)


class BusyCalendar(FreeSlots):
    """`ics_url`: an iCalendar feed of busy times; free slots are the day's opening
    hours in steps of `slot_minutes` that no busy event overlaps."""

    setting = "ai.tools.availability.ics_url"

    def __init__(
        self, session: aiohttp.ClientSession, url: str, *, slot_minutes: int = 30, **options: Any
    ) -> None:
        super().__init__(session, url, **options)
        self._step = timedelta(minutes=slot_minutes)

    async def _slots(
        self, day: date, profile: BusinessProfile | None, zone: ZoneInfo
    ) -> list[clock_time]:
        span = open_span(profile, day) if profile is not None else None
        if span is None:
            return []
        raw = await self._get("feed", {}, MAX_ICS_BYTES)
        start = datetime.combine(day, span[0], zone)
        end = datetime.combine(day, span[1], zone)
        busy = await asyncio.to_thread(_busy, raw, start, end, zone, self.setting)
        slots, at = [], start
        while at + self._step <= end:
            if not any(b_start < at + self._step and at < b_end for b_start, b_end in busy):
                slots.append(at.timetz().replace(tzinfo=None))
            at += self._step
        return slots


def free_slots(setting: AvailabilityTool, session: aiohttp.ClientSession) -> FreeSlots:
    """The source `ai.tools.availability` names."""
    headers = {name: value.get_secret_value() for name, value in setting.headers.items()}
    if setting.url is not None:
        return SlotEndpoint(
            session,
            setting.url,
            timeout=setting.timeout_seconds,
            headers=headers,
            cache_seconds=setting.cache_seconds,
            max_slots=setting.max_slots,
        )
    assert setting.ics_url is not None  # one of the two: the setting checks it
    return BusyCalendar(
        session,
        setting.ics_url,
        slot_minutes=setting.slot_minutes,
        timeout=setting.timeout_seconds,
        headers=headers,
        cache_seconds=setting.cache_seconds,
        max_slots=setting.max_slots,
    )


def _busy(
    feed: bytes, start: datetime, end: datetime, zone: ZoneInfo, setting: str
) -> list[tuple[datetime, datetime]]:
    """The busy spans between `start` and `end` (repeats expanded). Blocking: a thread."""
    import icalendar  # only a business with an iCalendar feed needs these
    import recurring_ical_events

    try:
        calendar = icalendar.Calendar.from_ical(feed)
        events = recurring_ical_events.of(calendar).between(start, end)
    except Exception as exc:  # the parsers raise many kinds on a broken feed
        raise ToolFailed(f"{setting} is not an iCalendar feed ({type(exc).__name__})") from None
    spans = []
    for event in events[:MAX_EVENTS]:
        if event.name != "VEVENT" or str(event.get("TRANSP", "")).upper() == "TRANSPARENT":
            continue
        if str(event.get("STATUS", "")).upper() == "CANCELLED":
            continue
        spans.append((_moment(event.decoded("DTSTART"), zone), _end(event, zone)))
    return spans


def _moment(value: date | datetime, zone: ZoneInfo) -> datetime:
    if not isinstance(value, datetime):  # an all-day event: from the day's start
        return datetime.combine(value, clock_time(0), zone)
    return value.replace(tzinfo=zone) if value.tzinfo is None else value


def _end(event: Any, zone: ZoneInfo) -> datetime:
    start = _moment(event.decoded("DTSTART"), zone)
    if "DTEND" in event:
        return _moment(event.decoded("DTEND"), zone)
    if "DURATION" in event:
        length: timedelta = event.decoded("DURATION")
        return start + length
    whole_day = not isinstance(event.decoded("DTSTART"), datetime)  # RFC 5545: one day
    return start + (timedelta(days=1) if whole_day else timedelta())


async def appointment_times(
    tools: Tools,
    text: str,
    conversation: Sequence[Turn],
    knowledge: KnowledgeBase | None,
    now: datetime | None,
    *,
    wish: bool,
    thanks: str,
) -> Draft | None:
    """With availability: the customer's pick of the times we offered (the appointment
    wish, for the card and the webhook; `thanks` the reply), or a wish (`wish`: the text
    asks to book or move one) for a day answered with its free times. None: neither
    (the wish goes to a person as without availability)."""
    source = tools.availability
    if source is None or now is None:
        return None
    offered = next((t for role, t in reversed(conversation[:-1]) if role == "business"), None)
    picked = chosen_slot(offered, text) if offered is not None and conversation else None
    if picked is not None:
        return Draft(
            reply=thanks,
            confidence=0.9,
            intent="appointment",
            sources=["tool:availability"],
            appointment=f"{picked} (picked from the free times offered)",
        )
    if not wish:
        return None
    profile = knowledge.profile if knowledge is not None else None
    zone = ZoneInfo(profile.timezone if profile else "UTC")
    day = day_asked(text, now.astimezone(zone).date())
    if day is None:
        return None
    try:
        slots = await source.free_on(day, profile, after=now)
    except ToolFailed:
        return None
    if not slots:
        return None  # nothing free that day: a person proposes another
    return Draft(
        reply=offer_text(day, slots[: source.max_slots]),
        confidence=0.9,
        intent="appointment",
        sources=["tool:availability"],
    )
