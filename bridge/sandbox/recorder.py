"""Plumbing shared by the Slack and Twilio emulators.

Both emulators record every API call they answer, can be told to fail on purpose,
and can run on a real socket for a CLI or a browser demo. Everything stays in memory.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from aiohttp import web

# A wildcard failure key: `fail("*", ...)` hits every method of an emulator.
ANY = "*"


@dataclass(frozen=True)
class RecordedCall:
    """One API request as the emulator saw it, including ones it refused."""

    method: str
    args: dict[str, Any]
    time: float
    status: int = 200
    error: str | None = None

    @property
    def failed(self) -> bool:
        return self.status >= 400 or self.error is not None


class WebhookResponse(NamedTuple):
    """What a bridge answered to a webhook the emulator delivered."""

    status: int
    text: str
    retry_after: str | None = None  # the answer's Retry-After header


@dataclass(frozen=True)
class Failure:
    """How an injected failure answers: an HTTP status, maybe Retry-After, and the
    platform's error (Slack names errors, Twilio numbers them)."""

    status: int
    retry_after: int | None = None
    error: str | None = None
    code: int | None = None
    # The call takes effect and only its answer fails: what a lost answer looks like.
    applied: bool = False


@dataclass
class _Plan:
    failure: Failure
    remaining: int | None  # None: the plan is bounded by `until` instead
    until: float | None


@dataclass
class FailureInjector:
    """Failures to serve instead of real answers, by key (an API method or `ANY`)."""

    _plans: dict[str, list[_Plan]] = field(default_factory=dict)

    def add_times(self, key: str, failure: Failure, times: int) -> None:
        self._plans.setdefault(key, []).append(_Plan(failure, remaining=times, until=None))

    def add_window(self, key: str, failure: Failure, seconds: float) -> None:
        until = time.monotonic() + seconds
        self._plans.setdefault(key, []).append(_Plan(failure, remaining=None, until=until))

    def clear(self) -> None:
        self._plans.clear()

    def take(self, key: str) -> Failure | None:
        """The failure the next call under `key` must get, consuming one use of it."""
        for plan_key in (key, ANY):
            plans = self._plans.get(plan_key, [])
            # Expired windows and used-up counts are dropped as they are met.
            plans[:] = [p for p in plans if _alive(p)]
            if plans:
                plan = plans[0]
                if plan.remaining is not None:
                    plan.remaining -= 1
                return plan.failure
        return None


def _alive(plan: _Plan) -> bool:
    if plan.remaining is not None:
        return plan.remaining > 0
    return plan.until is not None and time.monotonic() < plan.until


class LocalServer:
    """Serves an aiohttp application on a real socket (port 0 picks a free one)."""

    def __init__(self, app: web.Application) -> None:
        self._app = app
        self._runner: web.AppRunner | None = None
        self.base_url: str | None = None

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        if self._runner is not None:
            raise RuntimeError("already started")
        runner = web.AppRunner(self._app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        self._runner = runner
        # The bound port is only known once the socket is open.
        bound_host, bound_port = runner.addresses[0][:2]
        if ":" in bound_host:  # an IPv6 literal needs brackets in a URL
            bound_host = f"[{bound_host}]"
        self.base_url = f"http://{bound_host}:{bound_port}"
        return self.base_url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        self._runner = None
        self.base_url = None
