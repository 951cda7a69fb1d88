"""What a request to /slack/events must be before Bolt sees it.

First signed: the timestamp and signature headers are checked for their form, then the
signature over the raw body (within Slack's five minutes), so an unsigned request is
never parsed. Then shaped as Bolt assumes: Bolt reads the body with its own parser and
looks up ids and types in it before any listener runs, raising on a wrong type (a 500).
A signed request that fails here is a 400 with the reason; one of a shape nobody
listens to passes, and Bolt's no-listener answer becomes a 200 in `events`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from slack_bolt.request.internals import (
    build_normalized_headers,
    extract_content_type,
    parse_body,
)
from slack_sdk.signature import SignatureVerifier

_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")
MAX_DEPTH = 16  # Slack's objects nest a few levels; Bolt follows fewer

_TEXT, _ID, _OBJECT, _OBJECTS = "text", "text or an object", "an object", "a list of objects"
# The keys Bolt reads before any listener runs (its request parsing, middleware and
# listener matchers) and what it assumes they hold. Bolt follows the objects, so do we.
_EXPECTED = {
    **dict.fromkeys(
        ("type", "command", "callback_id", "action_id", "block_id", "response_url"), _TEXT
    ),
    **dict.fromkeys(
        ("team_id", "user_id", "channel_id", "enterprise_id", "thread_ts", "subtype"), _TEXT
    ),
    **dict.fromkeys(("user", "team", "channel", "enterprise"), _ID),
    **dict.fromkeys(
        ("event", "view", "message", "previous_message", "item", "assistant_thread"), _OBJECT
    ),
    **dict.fromkeys(("actions", "authorizations", "response_urls"), _OBJECTS),
}
# Slack sends null for some of these; Bolt indexes into these without a look.
_NEVER_NULL = frozenset({"event", "view", "actions", "response_urls"})


class RequestRefused(Exception):
    """The request is not one Slack sent, or not one Bolt can read; the text says why."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def verified_text(verifier: SignatureVerifier, raw: bytes, headers: Mapping[str, str]) -> str:
    """The body as text, once its signature holds."""
    timestamp = headers.get("X-Slack-Request-Timestamp", "")
    signature = headers.get("X-Slack-Signature", "")
    if not _TIMESTAMP.fullmatch(timestamp) or not _SIGNATURE.fullmatch(signature):
        raise RequestRefused(401, "invalid request signature")
    # Slack sends UTF-8; bytes that are not change in decoding, so they never verify.
    text = raw.decode("utf-8", errors="replace")
    if not verifier.is_valid(text, timestamp, signature):
        raise RequestRefused(401, "invalid request signature or stale timestamp")
    return text


def check_shape(text: str, headers: Mapping[str, str]) -> dict[str, Any]:
    """Refuse a body that Bolt would fail on: read as Bolt reads it, then its types.
    Returns the body as read."""
    content_type = extract_content_type(build_normalized_headers(dict(headers)))
    try:
        body = parse_body(text, content_type)
    except (ValueError, RecursionError):
        raise RequestRefused(400, "the body (or its payload field) is not JSON") from None
    if not isinstance(body, dict):
        raise RequestRefused(400, "the body (or its payload field) is not a JSON object")
    _check_part(body, "", 0)
    # With several, Bolt logs through a context that has no logger yet, and fails.
    if len(body.get("response_urls") or ()) > 1:
        raise RequestRefused(400, "response_urls: at most one")
    # A button's listener is found by the first action's id, taken without a look.
    actions = body.get("actions") if body.get("type") == "block_actions" else None
    if actions is not None and not isinstance((actions or [{}])[0].get("action_id"), str):
        raise RequestRefused(400, "actions[0] must have an action_id")
    return body


def _check_part(part: dict[str, Any], path: str, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise RequestRefused(400, f"{path or 'the body'} is nested too deeply")
    for key, expected in _EXPECTED.items():
        if key not in part or (part[key] is None and key not in _NEVER_NULL):
            continue
        value, where = part[key], f"{path}{key}"
        if expected == _OBJECTS:
            if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
                raise RequestRefused(400, f"{where} must be {expected}")
            for index, item in enumerate(value):
                _check_part(item, f"{where}[{index}].", depth + 1)
        elif isinstance(value, dict) and expected in (_OBJECT, _ID):
            _check_part(value, f"{where}.", depth + 1)
        elif not (isinstance(value, str) and expected in (_TEXT, _ID)):
            raise RequestRefused(400, f"{where} must be {expected}")
