"""`campaigns:` in the business configuration: saved segments (filters over contacts
that a campaign's `to: {segment: NAME}` names) and the Slack channel of campaigns'
progress and results messages (the inbox channel when unset)."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field

from bridge.campaigns.models import Segment
from bridge.section import Section, slack_id_shape

_CHANNEL = slack_id_shape("CG")


def _channel(value: str) -> str:
    if not _CHANNEL.fullmatch(value):
        raise ValueError(f"{value!r} is not a Slack channel ID (like C0123ABC)")
    return value


SegmentName = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,40}$")]


class CampaignsSection(Section):
    segments: dict[SegmentName, Segment] = Field(default_factory=dict)
    channel: Annotated[str, AfterValidator(_channel)] | None = None
