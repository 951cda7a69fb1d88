"""Marketing texts only between 8:00 and 21:00 where the recipient is (47 CFR
§64.1200(c)(1)); the time zone comes from the number, or a default when a number
spans several zones."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import phonenumbers
from phonenumbers import timezone as number_zones

OPENS = time(8, 0)
CLOSES = time(21, 0)


def zone_of(e164: str, default: str) -> ZoneInfo:
    try:
        zones = number_zones.time_zones_for_number(phonenumbers.parse(e164, None))
    except phonenumbers.NumberParseException:
        zones = ()
    real = [z for z in zones if z != number_zones.UNKNOWN_TIMEZONE]
    return ZoneInfo(real[0] if len(real) == 1 else default)


def next_allowed(e164: str, now: datetime, default_zone: str) -> datetime:
    """`now` when marketing may be texted to this number now; else when it may."""
    zone = zone_of(e164, default_zone)
    local = now.astimezone(zone)
    if OPENS <= local.time() < CLOSES:
        return now
    day = local.date() if local.time() < OPENS else local.date() + timedelta(days=1)
    return datetime.combine(day, OPENS, tzinfo=zone)
