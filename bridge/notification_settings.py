"""`notifications:` in the business configuration: who hears of what, how and when.
Checked at load, one line per problem naming its key (`notifications.rules[0].via[2]: …`);
`notify/` evaluates the rules."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Self, get_args
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from bridge.models import Intent, Urgency
from bridge.section import Section, is_group, is_user
from bridge.sender_settings import Webhooks, WebPushSetting

# The events a rule may name (`sla.breached` comes from the SLA timer).
EventName = Literal[
    "message.received",
    "conversation.opened",
    "conversation.assigned",
    "conversation.flagged",
    "conversation.reopened",
    "delivery.failed",
    "sla.breached",
    "feedback.low",
]
EVENT_NAMES: tuple[str, ...] = get_args(EventName)
# Who a rule tells besides explicit Slack ids (U…/W… people, S… user groups).
NAMED_TARGETS = ("assignee", "team", "on_call")
VIAS = ("slack_dm", "slack_mention", "email", "web_push")
PERSONAL_VIAS = ("slack_dm", "email", "web_push")  # one delivery per person
WEBHOOK_VIA = "webhook:"


def _some(value: Any) -> Any:
    """One value or a list of them (`urgency: urgent` or `urgency: [urgent, normal]`)."""
    return [value] if isinstance(value, str) else value


def _target(value: str) -> str:
    if value in NAMED_TARGETS or is_user(value) or is_group(value):
        return value
    raise ValueError(
        f"unknown target {value!r}: use assignee, team, on_call, a user ID (U…) or a"
        " user group ID (S…)"
    )


def _via(value: str) -> str:
    if value in VIAS or (value.startswith(WEBHOOK_VIA) and len(value) > len(WEBHOOK_VIA)):
        return value
    raise ValueError(
        f"unknown via {value!r}: use slack_dm, slack_mention, email, web_push or webhook:<name>"
    )


def _on_call(value: str) -> str:
    if is_user(value) or is_group(value):
        return value
    raise ValueError(f"{value!r} is not a user ID (U…) or a user group ID (S…)")


Target = Annotated[str, AfterValidator(_target)]
Via = Annotated[str, AfterValidator(_via)]
Some = BeforeValidator(_some)


class When(Section):
    """Filters: every one given must hold (a list: any of its values)."""

    urgency: Annotated[list[Urgency], Some] | None = None
    intent: Annotated[list[Intent], Some] | None = None
    team: Annotated[list[str], Some] | None = None
    hours: Literal["open", "closed"] | None = None


class NotificationRule(Section):
    on: Annotated[list[EventName], Some] = Field(min_length=1)
    when: When = Field(default_factory=When)
    notify: Annotated[list[Target], Some] = Field(default_factory=list)
    via: Annotated[list[Via], Some] = Field(min_length=1)
    # A digest instead of an alert: every N minutes, or when the business next opens.
    digest_minutes: float | None = Field(default=None, gt=0, le=24 * 60)
    digest: Literal["at_opening"] | None = None

    @model_validator(mode="before")
    @classmethod
    def _yaml_on(cls, data: Any) -> Any:
        """YAML 1.1 reads a bare `on:` key as the boolean true (PyYAML does): it is `on`."""
        if isinstance(data, dict) and True in data and "on" not in data:
            data = {("on" if key is True else key): value for key, value in data.items()}
        return data

    @model_validator(mode="after")
    def _one_digest(self) -> Self:
        if self.digest_minutes is not None and self.digest is not None:
            raise ValueError("give digest_minutes or digest: at_opening, not both")
        return self


def _smtp_url(value: SecretStr) -> SecretStr:
    parts = urlsplit(value.get_secret_value())
    if parts.scheme not in ("smtp", "smtps"):
        raise ValueError("must start with smtp:// or smtps://")
    if not parts.hostname:
        raise ValueError("must name a host, like smtp://user:password@mail.example:587")
    try:
        parts.port  # noqa: B018 - parsing it is the check
    except ValueError:
        raise ValueError("has a port that is not a number") from None
    return value


class EmailSettings(Section):
    smtp_url: Annotated[SecretStr, AfterValidator(_smtp_url)]
    from_: str = Field(alias="from", pattern=r"^[^@\s]+@[^@\s]+$")
    timeout_seconds: float = Field(default=10, gt=0, le=60)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Escalation(Section):
    # Mentioned in the conversation's thread: assignee, on_call, U… and S… ids.
    notify: Annotated[list[Target], Some] = Field(default_factory=lambda: ["assignee"])
    route: str | None = None  # a routing team: the conversation moves to its channel

    @model_validator(mode="after")
    def _no_team(self) -> Self:
        if "team" in self.notify:
            raise ValueError("team is not a target here: assignee, on_call, U… or S…")
        return self


class SlaSetting(Section):
    # Open minutes (opening hours, holidays and the away switch pause the count).
    first_response_minutes: int = Field(gt=0, le=7 * 24 * 60)
    escalate: Escalation = Field(default_factory=Escalation)


class PersonSettings(Section):
    email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+$")


class NotificationsSection(Section):
    email: EmailSettings | None = None
    webhooks: Webhooks = Field(default_factory=list)
    web_push: WebPushSetting | None = None
    on_call: Annotated[str, AfterValidator(_on_call)] | None = None
    # Addresses that win over the Slack profile's (users.info needs users:read.email).
    people: dict[str, PersonSettings] = Field(default_factory=dict)
    # The period of the digests a person's preferences make of alerts (urgent only,
    # digest only).
    digest_minutes: float = Field(default=60, gt=0, le=24 * 60)
    rules: list[NotificationRule] = Field(default_factory=list)
    sla: SlaSetting | None = None  # unset: no first-response timer

    @model_validator(mode="after")
    def _names_exist(self) -> Self:
        """What a rule names must be configured: one error per place, with its key."""
        hooks = {hook.name for hook in self.webhooks}
        problems: list[InitErrorDetails] = []

        def problem(loc: tuple[str | int, ...], value: str, message: str) -> None:
            error = PydanticCustomError("value_error", message)
            problems.append(InitErrorDetails(type=error, loc=loc, input=value))

        for number, rule in enumerate(self.rules):
            for place, via in enumerate(rule.via):
                loc = ("rules", number, "via", place)
                name = via.removeprefix(WEBHOOK_VIA)
                if via.startswith(WEBHOOK_VIA) and name not in hooks:
                    problem(loc, via, f"no webhook named {name!r} in notifications.webhooks")
                elif via == "email" and self.email is None:
                    problem(loc, via, "email needs notifications.email (smtp_url, from)")
                elif via == "web_push" and self.web_push is None:
                    problem(loc, via, "web_push needs notifications.web_push (its VAPID key)")
            personal = [via for via in rule.via if via in PERSONAL_VIAS]
            if personal and not rule.notify:
                problem(
                    ("rules", number, "notify"),
                    "",
                    f"{personal[0]} needs someone to tell: assignee, team, on_call, U… or S…",
                )
            for place, target in enumerate(rule.notify):
                if target == "on_call" and self.on_call is None:
                    problem(
                        ("rules", number, "notify", place),
                        target,
                        "on_call needs notifications.on_call (a user or user group ID)",
                    )
        if self.sla is not None and "on_call" in self.sla.escalate.notify and not self.on_call:
            problem(
                ("sla", "escalate", "notify"),
                "on_call",
                "on_call needs notifications.on_call (a user or user group ID)",
            )
        if problems:
            raise ValidationError.from_exception_data("notifications", problems)
        return self

    def email_of(self, user: str) -> str | None:
        person = self.people.get(user)
        return person.email if person else None
