"""`routing:` in the business configuration: teams (a Slack channel each, members, an
assignment policy) and the rules that send a conversation to one, first match wins.
Checked at load, so a rule naming an unknown team or a bad regex stops `serve` and
`check` with the key's path; the router compiles what is validated here."""

from __future__ import annotations

import re
from typing import Annotated, Literal, Self

from pydantic import AfterValidator, Field, field_validator, model_validator

from bridge.models import Channel, Intent, Urgency
from bridge.phones import InvalidPhone, to_e164
from bridge.section import Section, slack_id_shape
from bridge.setting_errors import SettingProblem

AssignPolicy = Literal["none", "round_robin", "least_open"]


def _slack_id(kind: str, prefixes: str) -> AfterValidator:
    shape = slack_id_shape(prefixes)

    def check(value: str) -> str:
        if not shape.fullmatch(value):
            raise ValueError(f"{value!r} is not a Slack {kind} ID (like {prefixes[0]}0123ABC)")
        return value

    return AfterValidator(check)


ChannelId = Annotated[str, _slack_id("channel", "CG")]
UserId = Annotated[str, _slack_id("user", "UW")]
GroupId = Annotated[str, _slack_id("user group", "S")]


class Team(Section):
    channel: ChannelId
    members: list[UserId] = Field(default_factory=list)
    user_group: GroupId | None = None
    assign: AssignPolicy = "none"


class Match(Section):
    """What a rule looks at; every condition given must hold."""

    keywords: list[Annotated[str, Field(min_length=1)]] | None = None  # any, as whole words
    regex: str | None = None  # searched, case-insensitive
    intent: list[Intent] | None = None
    urgency: list[Urgency] | None = None
    business_number: list[str] | None = None
    channel: list[Channel] | None = None
    tags: list[str] | None = None  # any of the contact's tags

    @field_validator("regex")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"{value!r} is not a regular expression: {exc}") from None
        return value

    @field_validator("business_number")
    @classmethod
    def _numbers(cls, value: list[str] | None) -> list[str] | None:
        try:
            return None if value is None else [to_e164(number) for number in value]
        except InvalidPhone as exc:
            raise ValueError(str(exc)) from None

    @model_validator(mode="after")
    def _something(self) -> Self:
        if not self.model_fields_set:
            raise ValueError(
                "name at least one of keywords, regex, intent, urgency, business_number,"
                " channel, tags (routing.default_team catches the rest)"
            )
        return self


class Rule(Section):
    match: Match
    team: str


class RoutingSection(Section):
    default_team: str | None = None
    teams: dict[str, Team] = Field(default_factory=dict)
    rules: list[Rule] = Field(default_factory=list)

    @model_validator(mode="after")
    def _teams_known(self) -> Self:
        known = ", ".join(self.teams) or "none"
        if self.default_team is not None and self.default_team not in self.teams:
            raise SettingProblem(
                ("default_team",), f"unknown team {self.default_team!r} (teams: {known})"
            )
        for number, rule in enumerate(self.rules):
            if rule.team not in self.teams:
                raise SettingProblem(
                    ("rules", number, "team"), f"unknown team {rule.team!r} (teams: {known})"
                )
        for name, team in self.teams.items():
            if team.assign != "none" and not team.members and team.user_group is None:
                raise SettingProblem(
                    ("teams", name, "assign"),
                    f"{team.assign} needs members or a user_group to assign to",
                )
        return self

    def team_named(self, name: str) -> str | None:
        """The configured team a person means (names match whatever the case)."""
        return next((team for team in self.teams if team.casefold() == name.casefold()), None)

    @property
    def active(self) -> bool:
        """Whether any conversation is routed (else every thread stays in the inbox)."""
        return bool(self.teams) and (bool(self.rules) or self.default_team is not None)
