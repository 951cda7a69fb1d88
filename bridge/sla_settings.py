"""`notifications.sla`: how long a text may wait for its first answer, in business
minutes, and who hears of it when it waits longer."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

# Names of targets that stand for someone: the conversation's assignee, the on-call
# person or group (`notifications.on_call`).
NAMED_TARGETS = ("assignee", "on_call")
# A Slack user (U…, W… on Enterprise Grid) or user group (S…) id.
SLACK_USER = re.compile(r"[UW][A-Z0-9]{2,}")
SLACK_GROUP = re.compile(r"S[A-Z0-9]{2,}")


def is_slack_id(value: str) -> bool:
    return bool(SLACK_USER.fullmatch(value) or SLACK_GROUP.fullmatch(value))


def slack_target(value: str) -> str:
    """A Slack user or user group id, or a ValueError that says what one looks like."""
    if is_slack_id(value):
        return value
    raise ValueError(f"{value!r} is not a Slack user id (U…) or user group id (S…)")


class Escalation(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # Mentioned in the conversation's thread: assignee, on_call, U… and S… ids.
    notify: tuple[str, ...] = ("assignee",)

    @field_validator("notify")
    @classmethod
    def _targets(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for target in value:
            if target not in NAMED_TARGETS and not is_slack_id(target):
                raise ValueError(
                    f"{target!r} is not a target: assignee, on_call, a Slack user id (U…)"
                    " or a user group id (S…)"
                )
        return value


class SlaSetting(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # Open minutes (opening hours, holidays and the away switch pause the count).
    first_response_minutes: int = Field(gt=0, le=7 * 24 * 60)
    escalate: Escalation = Field(default_factory=Escalation)
