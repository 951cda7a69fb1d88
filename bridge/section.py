"""The base of every section of the business configuration: unknown keys are refused
(with their path) and a loaded configuration is never changed. And the shape of the
Slack IDs the sections name."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict


def slack_id_shape(prefixes: str) -> re.Pattern[str]:
    """A Slack ID: one of `prefixes` (U or W a person, S a user group, C or G a
    channel), then upper-case letters and digits."""
    return re.compile(f"[{prefixes}][A-Z0-9]{{2,}}")


_USER = slack_id_shape("UW")
_GROUP = slack_id_shape("S")


def is_user(value: str) -> bool:
    return _USER.fullmatch(value) is not None


def is_group(value: str) -> bool:
    return _GROUP.fullmatch(value) is not None


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
