"""`/sms away on until …`: the times people write, read in the business's time zone."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bridge.threading.commands.away import read_when
from bridge.threading.commands.table import read

LA = ZoneInfo("America/Los_Angeles")
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=LA)  # a Friday


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("17:00", datetime(2026, 11, 27, 17, 0, tzinfo=LA)),
        ("5pm", datetime(2026, 11, 27, 17, 0, tzinfo=LA)),
        ("9am", datetime(2026, 11, 28, 9, 0, tzinfo=LA)),  # past today: tomorrow's
        ("tomorrow", datetime(2026, 11, 28, 0, 0, tzinfo=LA)),
        ("monday 9:30", datetime(2026, 11, 30, 9, 30, tzinfo=LA)),
        ("fri 8:00", datetime(2026, 12, 4, 8, 0, tzinfo=LA)),  # a weekday is the next one
        ("2026-12-24 12:00", datetime(2026, 12, 24, 12, 0, tzinfo=LA)),
        ("2h", datetime(2026, 11, 27, 14, 0, tzinfo=LA)),
        ("90m", datetime(2026, 11, 27, 13, 30, tzinfo=LA)),
    ],
)
def test_until_reads_what_people_write(text: str, expected: datetime) -> None:
    assert read_when(text, NOW) == expected


@pytest.mark.parametrize("text", ["someday", "25:00", "13pm", "2026-01-01", "monkey 9:00"])
def test_until_refuses_what_it_cannot_read_or_what_is_past(text: str) -> None:
    assert read_when(text, NOW) is None


def test_away_is_one_command_with_its_switch() -> None:
    assert read("away on until tomorrow 9:00").text == "on until tomorrow 9:00"
    assert read("away").action == "away"
    assert read("away off").text == "off"
