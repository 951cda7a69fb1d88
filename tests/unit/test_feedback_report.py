"""The feedback report's numbers: average, distribution and the weekly trend."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bridge.campaigns.feedback_report import feedback_report, report_start
from bridge.campaigns.rating_chart import rating_chart

LA = ZoneInfo("America/Los_Angeles")
# A Wednesday afternoon, in ISO week 2026-W49 (Monday 2026-11-30).
NOW = datetime(2026, 12, 2, 20, 0, tzinfo=UTC)


def test_the_average_and_distribution_count_every_rating_of_the_period() -> None:
    ratings = [(5, NOW), (4, NOW), (4, NOW), (1, NOW - timedelta(days=8))]
    report = feedback_report(ratings, now=NOW, weeks=8, zone=LA)
    assert report.count == 4
    assert report.average == pytest.approx(3.5)
    assert report.distribution == {1: 1, 2: 0, 3: 0, 4: 2, 5: 1}
    assert report.share(4) == pytest.approx(0.5)


def test_the_trend_has_every_week_oldest_first_with_its_average_and_count() -> None:
    ratings = [(5, NOW), (3, NOW - timedelta(days=1)), (2, NOW - timedelta(weeks=2))]
    report = feedback_report(ratings, now=NOW, weeks=3, zone=LA)
    assert [week.label for week in report.trend] == ["2026-W47", "2026-W48", "2026-W49"]
    assert [week.count for week in report.trend] == [1, 0, 2]
    assert [week.average for week in report.trend] == [2.0, None, 4.0]
    assert report.since == date(2026, 11, 16)


def test_weeks_are_the_business_s_weeks_and_older_ratings_are_left_out() -> None:
    # Monday 2026-11-30 03:00 UTC is still Sunday evening in Los Angeles: last week.
    sunday_evening = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
    report = feedback_report([(4, sunday_evening)], now=NOW, weeks=1, zone=LA)
    assert report.count == 0
    assert report_start(NOW, 1, LA) == datetime(2026, 11, 30, 0, 0, tzinfo=LA)
    report = feedback_report([(4, sunday_evening)], now=NOW, weeks=2, zone=LA)
    assert [week.count for week in report.trend] == [1, 0]


def test_no_ratings_make_an_empty_report_without_an_average() -> None:
    report = feedback_report([], now=NOW, weeks=4, zone=LA)
    assert report.count == 0
    assert report.average is None
    assert report.share(5) == 0
    assert len(report.trend) == 4


def test_the_chart_is_a_png_also_without_ratings() -> None:
    for ratings in ([(5, NOW), (1, NOW)], []):
        report = feedback_report(ratings, now=NOW, weeks=2, zone=LA)
        png = rating_chart(report, title="Ratings")
        assert png.startswith(b"\x89PNG\r\n\x1a\n")
