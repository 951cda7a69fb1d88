"""One POST to a receiver outside the bridge (a business's webhook, a push service):
bounded in time, never following a redirect, reading at most a little of the answer.
A receiver that cannot be reached is RetryLater; what it answered, the sender judges."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import aiohttp

from bridge.delivery.errors import RetryLater

MAX_ANSWER_BYTES = 2048  # enough to log why; a receiver can't make the bridge read more
MAX_RETRY_AFTER = 3600.0  # seconds: a receiver may ask for a pause, not for a day


@dataclass(frozen=True)
class Answered:
    status: int
    retry_after: float | None  # seconds, when the receiver asked for a pause
    start: str  # the answer's first bytes, for the log

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


async def post(
    session: aiohttp.ClientSession,
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    seconds: float,
    who: str,
) -> Answered:
    """POST `body`, answered within `seconds`; `who` names the receiver in errors
    (never its URL: it may hold a token)."""
    try:
        async with session.post(
            url,
            data=body,
            headers=dict(headers),
            timeout=aiohttp.ClientTimeout(total=seconds),
            allow_redirects=False,
        ) as response:
            start = await response.content.read(MAX_ANSWER_BYTES)
            return Answered(
                response.status,
                retry_after(response.headers.get("Retry-After")),
                start.decode("utf-8", errors="replace"),
            )
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise RetryLater(f"{who} unreachable: {type(exc).__name__}") from None


def delivery_id(key: str) -> str:
    """A delivery's id for its receiver (X-Bridge-Delivery, a push's Topic): the same
    on every retry, opaque, 32 characters of the base64url alphabet."""
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait, from a Retry-After of seconds or an HTTP date; None if absent
    or unreadable (the outbox's backoff then decides)."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        seconds = float(text)
    else:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            return None
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)
