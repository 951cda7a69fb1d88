"""Whether an engine's storage takes writes, learnt from the engine's own calls.

The first call that fails because the storage refuses writes (a full disk, a
read-only or damaged file, an unreachable server) makes the store unhealthy, with one
log line naming the cause; a small write tried every few seconds makes it healthy
again, with one more line. Meanwhile readiness fails and callers get
`StoreUnavailable` to answer with (a 503), not a driver's exception and traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

import structlog

from bridge.store.base import StoreUnavailable

log = structlog.get_logger(__name__)

E = TypeVar("E")
T = TypeVar("T")


class WriteHealth:
    def __init__(
        self,
        refusal: Callable[[Exception], StoreUnavailable | None],
        probe: Callable[[], Awaitable[None]],
        *,
        interval: float,
    ) -> None:
        """`refusal` tells a driver's error that means "no writes now" (else None);
        `probe` is a small write."""
        self._refusal = refusal
        self._probe = probe
        self._interval = interval
        self._refusing: StoreUnavailable | None = None
        self._prober: asyncio.Task[None] | None = None

    @property
    def refusing(self) -> StoreUnavailable | None:
        return self._refusing

    def refused(self, error: Exception) -> StoreUnavailable | None:
        """The refusal `error` stands for, if it is one; the first makes the store
        unhealthy until a probe succeeds."""
        refusal = self._refusal(error)
        if refusal is not None and self._refusing is None:
            self._refusing = refusal
            log.error("store.refusing_writes", reason=refusal.reason, cause=str(refusal))
            self._prober = asyncio.create_task(self._probe_until_writable(), name="store-probe")
        return refusal

    async def _probe_until_writable(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self._probe()
            except Exception:  # noqa: S112 - still refused: the cause was logged already
                continue
            self._refusing = None
            log.warning("store.writable_again")
            return

    async def close(self) -> None:
        if self._prober is not None:
            self._prober.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._prober


class _Engine(Protocol):
    _health: WriteHealth


# Their failures are answered where they are called: at start-up, by readiness.
_OWN_ANSWERS = frozenset({"open", "close", "ping"})


def watch_refusals(engine: type[E]) -> type[E]:
    """Class decorator for an engine with a `_health`: each of its public coroutine
    methods raises `StoreUnavailable` for a failure that refuses writes, and the
    engine's `WriteHealth` hears of it. Methods added later are watched too, and so
    are those of the role classes the engine is made of."""
    members: dict[str, object] = {}
    for klass in reversed(engine.__mro__):  # the engine's own definition wins
        members.update(vars(klass))
    for name, member in members.items():
        if name.startswith("_") or name in _OWN_ANSWERS or not inspect.iscoroutinefunction(member):
            continue
        setattr(engine, name, _watched(member))
    return engine


def _watched(method: Callable[..., Awaitable[T]]) -> Callable[..., Awaitable[T]]:
    @functools.wraps(method)
    async def call(self: _Engine, *args: Any, **kwargs: Any) -> T:
        try:
            return await method(self, *args, **kwargs)
        except Exception as exc:
            refusal = self._health.refused(exc)
            if refusal is None:
                raise
            raise refusal from exc

    return call
