"""How a job handler tells the outbox what went wrong."""

from __future__ import annotations


class RetryLater(Exception):
    """A transient failure: run the job again later.

    `after` is a delay the platform asked for (Slack's Retry-After); `throttled` marks
    rate limiting, which is pacing rather than failure and never makes a job dead.
    """

    def __init__(self, reason: str, *, after: float | None = None, throttled: bool = False):
        super().__init__(reason)
        self.after = after
        self.throttled = throttled


class GiveUp(Exception):
    """A permanent failure: retrying cannot help, the job is dead."""
