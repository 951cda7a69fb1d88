"""A campaign file (YAML, the keys of INTERFACES.md) as a `CampaignSpec`. A file that
is not one is refused with one line naming the problem (`CampaignError`); the desk's
plan finds the rest (placeholders, the audience, the send time) before anything is
stored or sent."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import yaml
from pydantic import ValidationError

from bridge.campaigns.errors import CampaignError
from bridge.campaigns.models import CampaignSpec
from bridge.phones import InvalidPhone, to_e164
from bridge.setting_errors import describe

KEYS = ("name", "kind", "from", "to", "text", "poll", "feedback", "opt_in", "send_at")


class _Loader(yaml.SafeLoader):
    """YAML that refuses a key given twice (two options with one letter), and keeps
    times as written: `send_at` must name its zone, which YAML would drop."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[object] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                line = key_node.start_mark.line + 1
                raise CampaignError(f"line {line}: {key} is given twice")
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


# Times stay strings (they are checked below); YAML's other scalars are as usual.
_Loader.yaml_implicit_resolvers = {
    first: [(tag, regex) for tag, regex in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def read_spec(text: str, *, default_from: str | None) -> CampaignSpec:
    """The campaign a file describes; `default_from`: TWILIO_FROM_NUMBER."""
    try:
        raw = yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" at line {where.line + 1}" if where is not None else ""
        raise CampaignError(f"not valid YAML{line}") from None
    if not isinstance(raw, dict):
        raise CampaignError("a campaign file is a mapping: name, text, to, …")
    unknown = [str(key) for key in raw if key not in KEYS]
    if unknown:
        raise CampaignError(f"{unknown[0]}: not a campaign key (keys: {', '.join(KEYS)})")
    fields = {key: value for key, value in raw.items() if key != "from"}
    fields["from_number"] = _number("from", raw.get("from") or default_from)
    to = raw.get("to")
    if isinstance(to, dict):
        fields["to"] = _audience(to)
    if raw.get("send_at") is not None:
        fields["send_at"] = _time(raw["send_at"])
    if isinstance(raw.get("poll"), dict) and isinstance(raw["poll"].get("options"), dict):
        # Letters as written ("A", "b"): YAML makes a bare 1 a number.
        options = raw["poll"]["options"]
        fields["poll"] = raw["poll"] | {"options": {str(k): v for k, v in options.items()}}
    try:
        return CampaignSpec.model_validate(fields)
    except ValidationError as exc:
        raise CampaignError(_first(exc)) from None


def _number(key: str, value: object) -> str:
    if value is None:
        raise CampaignError(f"{key}: no business number (write {key}: or set TWILIO_FROM_NUMBER)")
    try:
        return to_e164(str(value))
    except InvalidPhone as exc:
        raise CampaignError(f"{key}: {exc}") from None


def _audience(to: dict[str, Any]) -> dict[str, Any]:
    audience = dict(to)
    if isinstance(to.get("tags"), list):
        audience["tags"] = [str(tag).strip().lower() for tag in to["tags"]]
    if isinstance(to.get("numbers"), list):
        audience["numbers"] = [_number("to.numbers", n) for n in to["numbers"]]
    return audience


def _time(value: object) -> datetime:
    example = "like 2026-03-02T10:00:00-08:00"
    try:
        when = datetime.fromisoformat(str(value))
    except ValueError:
        raise CampaignError(f"send_at: {value!r} is not a time ({example})") from None
    if when.tzinfo is None:
        raise CampaignError(f"send_at: {value} needs its time zone ({example})")
    return when


def _first(exc: ValidationError) -> str:
    """pydantic's first problem, with the file's own key names."""
    problem = describe(exc, env=False)[0]
    return problem.replace("from_number", "from")
