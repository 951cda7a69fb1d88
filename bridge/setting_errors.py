"""pydantic's validation errors in an operator's words: one line per problem, naming the
environment variable (or the YAML key) and what it must be."""

from __future__ import annotations

from pydantic import ValidationError
from pydantic_core import ErrorDetails

# What a value must be, by pydantic's error type; `{…}` are the error's context.
_MUST_BE = {
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "int_type": "must be a whole number",
    "float_parsing": "must be a number",
    "float_type": "must be a number",
    "bool_parsing": "must be true or false",
    "bool_type": "must be true or false",
    "string_type": "must be text",
    "list_type": "must be a list",
    "dict_type": "must be a mapping (key: value lines)",
    "model_type": "must be a mapping (key: value lines)",
    "model_attributes_type": "must be a mapping (key: value lines)",
    "greater_than": "must be more than {gt}",
    "greater_than_equal": "must be at least {ge}",
    "less_than": "must be less than {lt}",
    "less_than_equal": "must be at most {le}",
    "literal_error": "must be one of {expected}",
    "string_too_long": "may have at most {max_length} characters",
    "url_parsing": "must be a URL like https://example.com",
    "url_scheme": "must be a URL like https://example.com",
    "url_type": "must be a URL like https://example.com",
}


class SettingProblem(ValueError):
    """A validator's problem with a key below the one it validates (a rule's team,
    checked against the teams): `under` is that key's path from there."""

    def __init__(self, under: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.under = under


def describe(exc: ValidationError, *, env: bool) -> list[str]:
    """Every problem of `exc`, one line each: `SETTING: what is wrong` for environment
    settings (`env`), `section.key: what is wrong` for the YAML configuration."""
    return [_line(error, env=env) for error in exc.errors()]


def _line(error: ErrorDetails, *, env: bool) -> str:
    parts = list(error["loc"])
    problem = error.get("ctx", {}).get("error")
    if isinstance(problem, SettingProblem):
        parts += problem.under
    message = _words(error)
    if not parts:  # a rule over several settings names them itself
        return message
    if env:
        return f"{'_'.join(str(part) for part in parts).upper()}: {message}"
    # A list's item as YAML path tools write it: routing.rules[2].match.regex
    name = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in parts)
    return f"{name.removeprefix('.')}: {message}"


def _words(error: ErrorDetails) -> str:
    kind = error["type"]
    if kind == "missing":
        return "required but not set"
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "value_error":  # the project's own validators already speak plainly
        return str(error["msg"]).removeprefix("Value error, ")
    template = _MUST_BE.get(kind)
    if template is None:
        return str(error["msg"])
    return template.format(**error.get("ctx", {}))
