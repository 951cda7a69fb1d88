"""When an alert goes out: now, or at the end of a digest period. The rule says first
(every N minutes, or when the business opens); then the person's preferences (digest
only, urgent only, quiet hours) may only make it later."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bridge.config import Business
from bridge.models import NotifyMode, NotifyPreferences
from bridge.notification_settings import NotificationRule
from bridge.threading.opening_hours import Opening

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def period_end(now: datetime, minutes: float) -> datetime:
    """The end of the `minutes`-long period `now` is in: periods are fixed slices of
    time, so every alert of one period shares one digest."""
    length = timedelta(minutes=minutes)
    return EPOCH + ((now - EPOCH) // length + 1) * length


def rule_due(rule: NotificationRule, now: datetime, hours: Opening | None) -> datetime | None:
    """When the rule wants it told (None: now)."""
    if rule.digest_minutes is not None:
        return period_end(now, rule.digest_minutes)
    if rule.digest == "at_opening" and hours is not None and not hours.open:
        if hours.next_open is None:
            return None  # no opening known (no hours, away with no end): do not wait forever
        return now + (hours.next_open - hours.at)  # the business's clock may be another's
    return None


def personal_due(
    due: datetime | None,
    preferences: NotifyPreferences,
    *,
    urgent: bool,
    now: datetime,
    digest_minutes: float,
    business: Business,
) -> datetime | None:
    """When one person hears of it, by a personal via (None: now). Not for MUTE."""
    if due is None and (
        preferences.mode is NotifyMode.DIGEST_ONLY
        or (preferences.mode is NotifyMode.URGENT_ONLY and not urgent)
    ):
        due = period_end(now, digest_minutes)
    quiet_end = _quiet_end(preferences, now, business)
    if quiet_end is not None and (due is None or due < quiet_end):
        due = quiet_end
    return due


def _quiet_end(
    preferences: NotifyPreferences, now: datetime, business: Business
) -> datetime | None:
    """When the person's quiet hours end, if they are in them now."""
    start, end = preferences.quiet_from, preferences.quiet_until
    if start is None or end is None or start == end:
        return None
    local = business.seen_at(now).astimezone(ZoneInfo(business.timezone))
    clock = local.time().replace(tzinfo=None)
    inside = start <= clock < end if start < end else (clock >= start or clock < end)
    if not inside:
        return None
    ends = datetime.combine(local.date(), end, tzinfo=local.tzinfo)
    if ends <= local:
        ends += timedelta(days=1)
    return now + (ends - local)
