"""The demo bakery's clock: a scenario sets the day and hour at the bakery, and the bridge
reads the opening hours on that clock whatever the real time is."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bridge.config import Business
from bridge.sandbox.demo_clock import DemoClock, WeekTime, on_clock
from bridge.threading.opening_hours import opening

ZONE = ZoneInfo("America/Los_Angeles")
BAKERY = Business(
    name="Bakery",
    timezone="America/Los_Angeles",
    hours={"mon-fri": "07:00-18:00", "sat": "08:00-14:00"},
    holidays=["2026-12-25"],
)
# Every 7 hours for two weeks, across the spring change to daylight saving time.
REAL_TIMES = [datetime(2026, 3, 1, 0, 13, tzinfo=UTC) + timedelta(hours=7 * i) for i in range(48)]


@pytest.mark.parametrize("real", REAL_TIMES, ids=lambda t: t.strftime("%a%d-%H%M"))
def test_a_scenarios_time_holds_whatever_the_real_time(real: datetime) -> None:
    clock = DemoClock(real=lambda: real)
    business = on_clock(BAKERY, clock)

    clock.move_to(WeekTime.parse("fri 21:30"), BAKERY)
    assert clock.now().astimezone(ZONE).strftime("%a %H:%M") == "Fri 21:30"
    assert not opening(business, None, real).open

    clock.move_to(WeekTime.parse("tue 10:30"), BAKERY)
    assert clock.now().astimezone(ZONE).strftime("%a %H:%M") == "Tue 10:30"
    assert opening(business, None, real).open
    # The bakery's clock runs on from there.
    assert opening(business, None, real + timedelta(hours=7)).open
    assert not opening(business, None, real + timedelta(hours=8)).open


def test_the_bakery_keeps_real_time_until_a_scenario_moves_its_clock() -> None:
    business = on_clock(BAKERY, DemoClock())
    for real in REAL_TIMES:
        assert opening(business, None, real).open == opening(BAKERY, None, real).open
    assert business.hours == BAKERY.hours  # the rest of the configuration is as it was


def test_a_scenario_in_opening_hours_never_lands_on_a_holiday() -> None:
    real = datetime(2026, 12, 21, 12, tzinfo=UTC)  # the Monday before Christmas
    clock = DemoClock(real=lambda: real)
    clock.move_to(WeekTime.parse("fri 10:00"), BAKERY)
    assert clock.now().astimezone(ZONE).date().isoformat() == "2027-01-01"
    assert opening(on_clock(BAKERY, clock), None, real).open


@pytest.mark.parametrize("text", ["friday 21:30", "fri 9:30", "fri 24:00", "21:30", "fri"])
def test_a_time_at_the_bakery_is_a_day_and_hh_mm(text: str) -> None:
    with pytest.raises(ValueError, match="like 'fri 21:30'"):
        WeekTime.parse(text)
