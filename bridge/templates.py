"""Texts with `{placeholders}`: canned responses and the compliance answers.

A placeholder is a plain name and nothing else: no format spec (`{phone:>50000000}`
builds a 50 MB string), conversion (`{name!r}`), position (`{0}`) or attribute and
index access (`{name.upper}`, `{x[0]}`). `{{` and `}}` are literal braces."""

from __future__ import annotations

import re
import string
from collections.abc import Mapping

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,40}")


class TemplateError(ValueError):
    """A template that is not one; the message says what is wrong, in words."""


def placeholders(template: str) -> list[str]:
    """The names a template uses, in order; `TemplateError` when it is malformed."""
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise TemplateError(f"{exc} (write {{{{ and }}}} for a literal brace)") from None
    names = []
    for _, field, spec, conversion in parts:
        if field is None:
            continue
        if spec or conversion:
            raise TemplateError(f"{{{field}…}}: a placeholder is a plain name, like {{name}}")
        if not _NAME.fullmatch(field):
            raise TemplateError(f"{{{field}}}: a placeholder is a plain name, like {{name}}")
        names.append(field)
    return names


def fill(template: str, values: Mapping[str, str]) -> str:
    """The template with each placeholder replaced by its value (checked by
    `placeholders` first: a name missing from `values` is a KeyError)."""
    placeholders(template)
    return "".join(
        literal + ("" if field is None else values[field])
        for literal, field, _, _ in string.Formatter().parse(template)
    )
