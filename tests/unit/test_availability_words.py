"""Reading appointment texts for availability: the day asked about, and the time a
customer picked from the times offered."""

from __future__ import annotations

from datetime import date, time

import pytest
from pydantic import ValidationError

from bridge.ai.availability import chosen_slot, day_asked, offer_text
from bridge.availability_settings import AvailabilityTool

WEDNESDAY = date(2026, 3, 4)


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("Can I move my appointment to Friday?", date(2026, 3, 6)),
        ("can i reschedule my appt to fri", date(2026, 3, 6)),
        ("book me in tomorrow", date(2026, 3, 5)),
        ("anything free today?", WEDNESDAY),
        ("move it to wednesday", date(2026, 3, 11)),  # named on that day: next week's
        ("move me to Friday at 3", None),  # a time named: the wish is complete
        ("move me to friday 3pm", None),
        ("can I move my appointment?", None),
    ],
)
def test_the_day_a_text_asks_about(text: str, day: date | None) -> None:
    assert day_asked(text, WEDNESDAY) == day


OFFER = offer_text(date(2026, 3, 6), [time(9, 0), time(10, 30), time(14, 0)])


@pytest.mark.parametrize(
    ("answer", "picked"),
    [
        ("10:30 please", "10:30"),
        ("10.30 works", "10:30"),
        ("2pm", "14:00"),
        ("the one at 9", "9:00"),
        ("9 or 10:30, either", None),  # two: a person settles it
        ("what about 11?", None),
        ("thanks!", None),
    ],
)
def test_the_time_picked_from_an_offer(answer: str, picked: str | None) -> None:
    chosen = chosen_slot(OFFER, answer)
    if picked is None:
        assert chosen is None
    else:
        assert chosen == f"Friday, Mar 6 at {picked}"


def test_a_text_that_is_no_offer_of_ours_picks_nothing() -> None:
    assert chosen_slot("We open at 9:00 and close at 17:00.", "9:00") is None


def test_availability_takes_one_source_and_names_the_problem() -> None:
    assert AvailabilityTool(url="https://example.com/slots").ics_url is None
    for wrong in ({}, {"url": "https://a.example/s", "ics_url": "https://a.example/b.ics"}):
        with pytest.raises(ValidationError, match=r"url .* or ics_url"):
            AvailabilityTool.model_validate(wrong)
    with pytest.raises(ValidationError, match="must be a URL"):
        AvailabilityTool(ics_url="calendar.ics")
