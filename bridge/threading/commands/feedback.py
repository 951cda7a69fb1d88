"""`/sms feedback report`: the ratings of the rating requests, over the last weeks —
told to the asker at once, and posted with its chart in the inbox channel for the team."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

from bridge.campaigns.feedback_report import DEFAULT_WEEKS, MAX_WEEKS
from bridge.campaigns.report_reader import read_feedback_report
from bridge.jobs import feedback_report_job
from bridge.models import ReportRequest, utcnow
from bridge.threading.commands.answers import Answer, FeedbackReported, WeeksUnclear
from bridge.threading.commands.grammar import Arg
from bridge.threading.commands.spec import Call, Spec

# "weeks 12", "12 weeks", "12w", "12".
_WEEKS = re.compile(r"(?:weeks?\s+)?(\d{1,3})(?:\s*(?:weeks?|w))?", re.IGNORECASE)


def read_weeks(text: str) -> int | None:
    """The number of weeks typed (the default when nothing is), None when unreadable."""
    if not text.strip():
        return DEFAULT_WEEKS
    match = _WEEKS.fullmatch(text.strip())
    weeks = int(match.group(1)) if match else 0
    return weeks if 1 <= weeks <= MAX_WEEKS else None


async def _report(call: Call) -> Answer:
    weeks = read_weeks(call.command.text)
    if weeks is None:
        return WeeksUnclear(call.command.text, MAX_WEEKS)
    store, now = call.services.store, utcnow()
    zone = ZoneInfo(call.services.business.timezone)
    report = await read_feedback_report(store, now=now, weeks=weeks, zone=zone)
    await store.enqueue(
        feedback_report_job(ReportRequest(weeks=weeks, by=call.user, at=now)), run_at=now
    )
    return FeedbackReported(report)


REPORT = Spec(
    "feedback report",
    "feedback report",
    _report,
    (Arg.WEEKS,),
    "ratings of the rating requests: average, 1-5 spread, trend by week, and a chart",
    "feedback report weeks 12",
)
COMMANDS = (REPORT,)
