"""Open now, and the next opening, for a business number: with the clock frozen inside
hours, outside, on holidays (configured and public), per number and while away."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bridge.config import Business, ConfigError, load_business_config
from bridge.models import Away
from bridge.threading.opening_hours import opening, when_text

LA = ZoneInfo("America/Los_Angeles")
# Friday 2026-11-27 12:00 in Los Angeles (the day after Thanksgiving).
NOON_FRI = datetime(2026, 11, 27, 12, 0, tzinfo=LA)
BAKERY = Business(
    timezone="America/Los_Angeles",
    hours={"mon-fri": "07:00-18:00", "sat": "08:00-14:00"},
    holidays=["2026-12-25"],
)
OTHER_NUMBER = "+14155550199"


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=LA)


def test_inside_hours_it_is_open_until_closing() -> None:
    now = opening(BAKERY, None, NOON_FRI.astimezone(UTC))
    assert now.open
    assert now.until == local(2026, 11, 27, 18, 0)
    assert now.next_open is None


def test_outside_hours_it_opens_at_the_next_opening() -> None:
    evening = opening(BAKERY, None, local(2026, 11, 27, 19, 30))
    assert not evening.open
    assert evening.next_open == local(2026, 11, 28, 8, 0)  # Saturday's hours
    sunday = opening(BAKERY, None, local(2026, 11, 29, 10, 0))
    assert sunday.next_open == local(2026, 11, 30, 7, 0)
    early = opening(BAKERY, None, local(2026, 11, 27, 6, 0))
    assert early.next_open == local(2026, 11, 27, 7, 0)


def test_a_configured_holiday_is_closed_and_skipped() -> None:
    christmas = opening(BAKERY, None, local(2026, 12, 25, 12, 0))
    assert not christmas.open
    assert christmas.next_open == local(2026, 12, 26, 8, 0)
    eve = opening(BAKERY, None, local(2026, 12, 24, 19, 0))
    assert eve.next_open == local(2026, 12, 26, 8, 0)


def test_a_public_holiday_of_holidays_country_is_closed() -> None:
    thanksgiving = local(2026, 11, 26, 12, 0)
    assert opening(BAKERY, None, thanksgiving).open  # without the country: a Thursday
    us = BAKERY.model_copy(update={"holidays_country": "US"})
    closed = opening(us, None, thanksgiving)
    assert not closed.open
    assert closed.next_open == local(2026, 11, 27, 7, 0)


def test_a_number_has_its_own_hours_time_zone_and_holidays() -> None:
    business = Business.model_validate(
        {
            **BAKERY.model_dump(),
            "numbers": {
                "(415) 555-0199": {
                    "timezone": "America/New_York",
                    "hours": {"sat-sun": "10:00-16:00"},
                }
            },
        }
    )
    assert OTHER_NUMBER in business.numbers  # normalised like compliance.numbers
    weekday = opening(business, OTHER_NUMBER, NOON_FRI)
    assert not weekday.open
    assert weekday.next_open == datetime(2026, 11, 28, 10, 0, tzinfo=ZoneInfo("America/New_York"))
    assert opening(business, None, NOON_FRI).open  # the business's own number
    assert opening(business, "+15005550006", NOON_FRI).open  # a number without overrides


def test_away_closes_until_its_end_then_the_next_opening_hour() -> None:
    until_three = Away(since=NOON_FRI, until=local(2026, 11, 27, 15, 0), by="U1")
    away = opening(BAKERY, None, NOON_FRI, until_three)
    assert not away.open
    assert away.away == until_three
    assert away.next_open == local(2026, 11, 27, 15, 0)
    assert opening(BAKERY, None, local(2026, 11, 27, 15, 0), until_three).open  # over
    until_night = Away(since=NOON_FRI, until=local(2026, 11, 27, 21, 0), by="U1")
    assert opening(BAKERY, None, NOON_FRI, until_night).next_open == local(2026, 11, 28, 8, 0)


def test_away_without_an_end_has_no_known_opening() -> None:
    away = opening(BAKERY, None, NOON_FRI, Away(since=NOON_FRI, by="U1"))
    assert not away.open
    assert away.next_open is None


def test_without_hours_it_never_opens() -> None:
    never = opening(Business(), None, NOON_FRI)
    assert not never.open
    assert never.next_open is None


def test_when_text_says_the_day_as_people_do() -> None:
    at = local(2026, 11, 27, 19, 0)  # Friday
    assert when_text(local(2026, 11, 27, 21, 5), at) == "today at 21:05"
    assert when_text(local(2026, 11, 28, 8, 0), at) == "tomorrow at 8:00"
    assert when_text(local(2026, 11, 30, 9, 30), at) == "Monday at 9:30"
    assert when_text(local(2026, 12, 7, 9, 30), at) == "Monday, Dec 7 at 9:30"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("business:\n  holidays_country: XX\n", "business.holidays_country"),
        ("business:\n  holidays_country: US-ZZ\n", "business.holidays_country"),
        ("business:\n  numbers: {'+14155550199': {holidays_country: XX}}\n", "holidays_country"),
        ("business:\n  numbers: {'+14155550199': {timezone: Mars/Olympus}}\n", "timezone"),
        ("business:\n  numbers: {'not a phone': {}}\n", "business.numbers"),
        ("hours:\n  away_reply: 'back at {opening}'\n", "hours.away_reply"),
        ("hours:\n  response_minutes: -5\n", "hours.response_minutes"),
    ],
)
def test_bad_hours_settings_are_refused_naming_the_key(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "bridge.yml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_business_config(path)


def test_a_subdivision_and_an_away_reply_load(tmp_path: Path) -> None:
    path = tmp_path / "bridge.yml"
    path.write_text(
        "business:\n  holidays_country: us-ca\n"
        "hours:\n  away_reply: '{business_name} is closed; we reply by {response_time}.'\n"
    )
    config = load_business_config(path)
    assert config.business.holidays_country == "US-CA"
    assert config.hours.response_minutes == 120
    assert timedelta(minutes=config.hours.response_minutes) == timedelta(hours=2)
