"""`/sms feedback report`: the command parses, reads its weeks, and its report reads
right in Slack; the notification rules may name `feedback.low`."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bridge.campaigns.feedback_report import feedback_report
from bridge.notification_settings import NotificationRule
from bridge.slack.blocks.feedback_report import bar, report_text
from bridge.threading.commands.feedback import read_weeks
from bridge.threading.commands.table import read

NOW = datetime(2026, 12, 2, 20, 0, tzinfo=UTC)


def test_the_command_parses_with_and_without_its_weeks() -> None:
    assert read("feedback report").action == "feedback report"
    assert read("feedback report weeks 12").text == "weeks 12"


@pytest.mark.parametrize(
    ("typed", "weeks"),
    [
        ("", 8),
        ("weeks 12", 12),
        ("12", 12),
        ("4 weeks", 4),
        ("2w", 2),
        ("weeks 0", None),
        ("weeks 500", None),
        ("last month", None),
    ],
)
def test_weeks_are_read_forgivingly_and_bounded(typed: str, weeks: int | None) -> None:
    assert read_weeks(typed) == weeks


def test_bars_are_proportional_and_a_small_count_still_shows() -> None:
    assert bar(10, 10, 20) == "█" * 20
    assert bar(5, 10, 20) == "█" * 10
    assert bar(1, 1000, 20) != ""
    assert bar(0, 10) == ""


def test_the_report_shows_the_average_every_rating_and_every_week() -> None:
    ratings = [(5, NOW), (4, NOW), (1, NOW)]
    report = feedback_report(ratings, now=NOW, weeks=2, zone=ZoneInfo("UTC"))
    text = report_text(report, "U0ANA")
    assert "3.33" in text
    assert "<@U0ANA>" in text
    for rating in ("1★", "2★", "3★", "4★", "5★"):
        assert rating in text
    assert "2026-W48" in text
    assert "2026-W49" in text


def test_a_rule_may_name_low_ratings() -> None:
    rule = NotificationRule.model_validate(
        {"on": "feedback.low", "notify": "on_call", "via": "slack_dm"}
    )
    assert rule.on == ["feedback.low"]
