"""The feedback report from the stored ratings: what `/sms feedback report` answers and
what its job posts, read the same way by both."""

from __future__ import annotations

from datetime import datetime, tzinfo

from bridge.campaigns.feedback_report import FeedbackReport, feedback_report, report_start
from bridge.store.base import FeedbackStore


async def read_feedback_report(
    store: FeedbackStore, *, now: datetime, weeks: int, zone: tzinfo
) -> FeedbackReport:
    answers = await store.ratings_since(report_start(now, weeks, zone))
    ratings = ((int(answer.choice), answer.at) for answer in answers if answer.choice.isdigit())
    return feedback_report(ratings, now=now, weeks=weeks, zone=zone)
