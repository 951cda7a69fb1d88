"""A deadline in business minutes: a start plus N open minutes, skipping closed time
(evenings, weekends, holidays, the away switch). The clock is frozen: every start is
given."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bridge.config import Business
from bridge.models import Away
from bridge.threading.opening_hours import business_deadline

LA = ZoneInfo("America/Los_Angeles")
BAKERY = Business(
    timezone="America/Los_Angeles",
    hours={"mon-fri": "07:00-18:00", "sat": "08:00-14:00"},
    holidays=["2026-12-25"],
)


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=LA)


def test_inside_hours_it_is_the_start_plus_the_minutes() -> None:
    start = local(2026, 11, 27, 12, 0).astimezone(UTC)  # a Friday noon
    assert business_deadline(BAKERY, None, start, 15) == local(2026, 11, 27, 12, 15)


def test_the_closing_pauses_the_count_until_the_next_opening() -> None:
    # Thursday 17:50: ten minutes today, five when Friday opens at 7:00.
    start = local(2026, 12, 3, 17, 50)
    assert business_deadline(BAKERY, None, start, 15) == local(2026, 12, 4, 7, 5)


def test_a_text_while_closed_counts_from_the_opening() -> None:
    assert business_deadline(BAKERY, None, local(2026, 12, 3, 22, 0), 15) == local(
        2026, 12, 4, 7, 15
    )


def test_the_weekend_is_skipped() -> None:
    # Saturday 13:55: five minutes on Saturday, Sunday closed, ten on Monday.
    start = local(2026, 11, 28, 13, 55)
    assert business_deadline(BAKERY, None, start, 15) == local(2026, 11, 30, 7, 10)


def test_a_holiday_is_skipped_configured_or_public() -> None:
    # Thursday Dec 24, 17:55: Christmas (configured) is closed; Saturday opens at 8:00.
    start = local(2026, 12, 24, 17, 55)
    assert business_deadline(BAKERY, None, start, 15) == local(2026, 12, 26, 8, 10)
    # Wednesday before Thanksgiving (a public holiday in the US), 17:55.
    us = BAKERY.model_copy(update={"holidays_country": "US"})
    wednesday = local(2026, 11, 25, 17, 55)
    assert business_deadline(BAKERY, None, wednesday, 15) == local(2026, 11, 26, 7, 10)
    assert business_deadline(us, None, wednesday, 15) == local(2026, 11, 27, 7, 10)


def test_minutes_longer_than_a_day_span_several_days() -> None:
    # 11 open hours a weekday: 12 hours from Friday 7:00 end Saturday 9:00.
    start = local(2026, 11, 27, 7, 0)
    assert business_deadline(BAKERY, None, start, 12 * 60) == local(2026, 11, 28, 9, 0)


def test_the_away_switch_pauses_the_count_until_its_end() -> None:
    away = Away(since=local(2026, 12, 3, 9, 0), until=local(2026, 12, 3, 13, 0), by="U1")
    start = local(2026, 12, 3, 10, 0)
    assert business_deadline(BAKERY, None, start, 15, away) == local(2026, 12, 3, 13, 15)


def test_away_without_an_end_has_no_deadline() -> None:
    away = Away(since=local(2026, 12, 3, 9, 0), by="U1")
    assert business_deadline(BAKERY, None, local(2026, 12, 3, 10, 0), 15, away) is None


def test_without_opening_hours_every_minute_counts() -> None:
    start = local(2026, 11, 29, 3, 0)  # a Sunday night
    assert business_deadline(Business(), None, start, 15) == start + timedelta(minutes=15)


def test_a_number_with_its_own_hours_counts_its_own() -> None:
    business = Business.model_validate(
        BAKERY.model_dump()
        | {"numbers": {"+14155550199": {"timezone": "UTC", "hours": {"sun": "10:00-16:00"}}}}
    )
    start = datetime(2026, 11, 28, 20, 0, tzinfo=UTC)  # Saturday evening, UTC
    assert business_deadline(business, "+14155550199", start, 15) == datetime(
        2026, 11, 29, 10, 15, tzinfo=UTC
    )


def test_the_away_switch_counts_as_closed_only_from_when_it_was_turned_on() -> None:
    # Thursday: open from 10:00 to 14:00 (4 hours), away until 15:00, then one more hour.
    away = Away(since=local(2026, 12, 3, 14, 0), until=local(2026, 12, 3, 15, 0), by="U1")
    start = local(2026, 12, 3, 10, 0)
    assert business_deadline(BAKERY, None, start, 5 * 60, away) == local(2026, 12, 3, 16, 0)


def test_without_opening_hours_the_away_switch_still_pauses_the_count() -> None:
    away = Away(since=local(2026, 12, 3, 10, 5), until=local(2026, 12, 3, 11, 0), by="U1")
    start = local(2026, 12, 3, 10, 0)
    assert business_deadline(Business(), None, start, 15, away) == local(2026, 12, 3, 11, 10)
