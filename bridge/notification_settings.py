"""The `notifications` section of the business configuration (for now: who is on
call, and the first-response timer)."""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, model_validator

from bridge.sla_settings import SlaSetting, slack_target


class NotificationsSection(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # A Slack user (U…) or user group (S…) id: the `on_call` of rules and escalations.
    on_call: Annotated[str, AfterValidator(slack_target)] | None = None
    # Unset: no first-response timer.
    sla: SlaSetting | None = None

    @model_validator(mode="after")
    def _on_call_is_set_when_named(self) -> Self:
        if self.sla is not None and "on_call" in self.sla.escalate.notify and not self.on_call:
            raise ValueError(
                "sla.escalate.notify names on_call, but notifications.on_call is not set"
            )
        return self
