"""The ratings report of `/sms feedback report`: how many, the average, how they spread
over 1-5 and how the average moved week by week. Pure: the ratings and the clock come in."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

DEFAULT_WEEKS = 8
MAX_WEEKS = 104  # two years: a longer trend is no longer one screen
SCALE = (1, 2, 3, 4, 5)


@dataclass(frozen=True)
class WeekStat:
    monday: date  # the ISO week's first day, in the business's time zone
    count: int
    average: float | None  # None: no rating that week

    @property
    def label(self) -> str:
        year, week, _ = self.monday.isocalendar()
        return f"{year}-W{week:02d}"


@dataclass(frozen=True)
class FeedbackReport:
    weeks: int
    since: date  # the first week's Monday
    distribution: dict[int, int]  # rating → how many, every rating 1-5 present
    trend: tuple[WeekStat, ...]  # oldest first, every week of the period (empty ones too)

    @property
    def count(self) -> int:
        return sum(self.distribution.values())

    @property
    def average(self) -> float | None:
        count = self.count
        return sum(r * n for r, n in self.distribution.items()) / count if count else None

    def share(self, rating: int) -> float:
        """The part of all ratings that gave `rating` (0 when there are none)."""
        return self.distribution[rating] / self.count if self.count else 0.0


def report_start(now: datetime, weeks: int, zone: tzinfo) -> datetime:
    """The start (Monday 00:00 in `zone`) of the first of the last `weeks` ISO weeks,
    this one included: ratings from then on are in the report."""
    today = now.astimezone(zone).date()
    monday = today - timedelta(days=today.weekday()) - timedelta(weeks=weeks - 1)
    return datetime.combine(monday, time(0), tzinfo=zone)


def feedback_report(
    ratings: Iterable[tuple[int, datetime]], *, now: datetime, weeks: int, zone: tzinfo
) -> FeedbackReport:
    """The report over the last `weeks` ISO weeks (this one included) of `ratings`
    (rating, when); ratings outside the period or the scale are left out."""
    start = report_start(now, weeks, zone)
    first = start.date()
    distribution = dict.fromkeys(SCALE, 0)
    per_week: dict[int, list[int]] = {week: [] for week in range(weeks)}
    for rating, at in ratings:
        local = at.astimezone(zone)
        if rating not in distribution or local < start or local > now:
            continue
        distribution[rating] += 1
        per_week[(local.date() - first).days // 7].append(rating)
    trend = tuple(
        WeekStat(
            first + timedelta(weeks=week),
            len(values),
            sum(values) / len(values) if values else None,
        )
        for week, values in per_week.items()
    )
    return FeedbackReport(weeks, first, distribution, trend)
