"""Job FEEDBACK_REPORT: the ratings report someone asked for (`/sms feedback report`),
posted in the inbox channel for the team, its distribution chart in the post's thread.
Each is made once (`SlackPosts`), whatever the retries."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bridge.campaigns.rating_chart import rating_chart
from bridge.campaigns.report_reader import read_feedback_report
from bridge.config import Business
from bridge.delivery.errors import GiveUp
from bridge.models import Job, ReportRequest
from bridge.slack.blocks.feedback_report import report_text
from bridge.slack.posts import SlackPosts
from bridge.store.base import FeedbackStore


class FeedbackReportPoster:
    def __init__(
        self, store: FeedbackStore, posts: SlackPosts, channel: str, business: Business
    ) -> None:
        self._store = store
        self._posts = posts
        self._channel = channel
        self._zone = ZoneInfo(business.timezone)

    async def __call__(self, job: Job) -> None:
        if not job.note:
            raise GiveUp("feedback report without its request")
        request = ReportRequest.model_validate_json(job.note)
        report = await read_feedback_report(
            self._store, now=request.at, weeks=request.weeks, zone=self._zone
        )
        text = report_text(report, request.by)
        posted = await self._posts.post(f"{job.key}:text", self._channel, text)
        if report.count == 0:
            return  # a chart of nothing says no more than the text
        chart = rating_chart(report, title=f"Ratings, the last {request.weeks} weeks")
        await self._posts.upload(
            f"{job.key}:chart",
            self._channel,
            posted.ts,
            filename=f"ratings-{report.since.isoformat()}.png",
            content=chart,
        )
