"""People an agent mentions in a reply, named when it is sent.

Slack allows 3 seconds to acknowledge an event, and a name costs a users.info call
(about 100 a minute): a reply that mentions many people cannot wait for all of them.
Names not known at once are marked in the stored text and filled in by the send."""

from __future__ import annotations

import re
from collections.abc import Mapping

# Private-use characters: nothing a person types, and never sent (they are replaced).
_OPEN, _CLOSE = "\ue000", "\ue001"
_MARK = re.compile(f"{_OPEN}([A-Z0-9]{{2,40}}){_CLOSE}")
UNKNOWN = "someone"


def mark(user_id: str) -> str:
    """Where a mention of `user_id` goes until its name is known."""
    return f"{_OPEN}{user_id}{_CLOSE}"


def marked(text: str) -> set[str]:
    """The people whose names the text still waits for."""
    return set(_MARK.findall(text))


def named(text: str, names: Mapping[str, str]) -> str:
    """The text with each mark replaced by `@name` (`@someone` for a name not known)."""
    return _MARK.sub(lambda m: f"@{names.get(m.group(1)) or UNKNOWN}", text)
