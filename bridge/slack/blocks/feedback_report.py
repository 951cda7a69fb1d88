"""`/sms feedback report` in Slack's words: the average, a bar per rating and the
weekly trend (in a code block, so the bars line up)."""

from __future__ import annotations

from bridge.campaigns.feedback_report import SCALE, FeedbackReport
from bridge.slack.blocks.mrkdwn import counted, mention

BAR_WIDTH = 20


def bar(count: int, most: int, width: int = BAR_WIDTH) -> str:
    """A text bar `count/most` of `width` (a non-zero count shows at least a sliver)."""
    if most <= 0 or count <= 0:
        return ""
    eighths = max(1, round(count / most * width * 8))
    full, rest = divmod(eighths, 8)
    return "█" * full + ("▏▎▍▌▋▊▉"[rest - 1] if rest else "")


def _average(report: FeedbackReport) -> str:
    if report.average is None:
        return "no ratings yet"
    return f"*average {report.average:.2f}* from {counted(report.count, 'rating')}"


def _code(lines: list[str]) -> str:
    """A code block: the bars line up in Slack's fixed-width font."""
    return "```\n" + "\n".join(lines) + "\n```"


def report_summary(report: FeedbackReport) -> str:
    """The asker's answer: the headline, and where the whole report goes."""
    return (
        f"Feedback over the last {counted(report.weeks, 'week')}: {_average(report)}."
        " The report and its chart are being posted in the SMS inbox channel."
    )


def report_text(report: FeedbackReport, by: str) -> str:
    """The whole report, as posted in the inbox channel."""
    most = max(report.distribution.values())
    spread = [
        f"{rating}★ {bar(report.distribution[rating], most):<{BAR_WIDTH}} "
        f"{report.distribution[rating]:>4}  {report.share(rating):>4.0%}"
        for rating in reversed(SCALE)
    ]
    busiest = max(week.count for week in report.trend)
    trend = [
        f"{week.label}  {'  -  ' if week.average is None else f'{week.average:.2f} '}"
        f" {bar(week.count, busiest, 10):<10} {week.count:>4}"
        for week in report.trend
    ]
    return "\n".join(
        [
            f":bar_chart: *Feedback report* · the last {counted(report.weeks, 'week')}"
            f" (since {report.since:%a} {report.since.day} {report.since:%b %Y})"
            f" · asked by {mention(by)}",
            f"Overall: {_average(report)}",
            _code(spread),
            "*By week* (average, ratings)",
            _code(trend),
        ]
    )
