"""Whether any campaign's texts may be answered or quoted now, asked of the store at
most once a second: an ordinary text then costs no campaign lookup while no campaign
listens (the inbox's everyday case; the lookup took a fifth of the intake's rate).
The store's own campaign starts clear it at once; another process's are seen within
LISTENING_SECONDS, far sooner than a person can read a text and answer it."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable

LISTENING_SECONDS = 1.0


class ListeningCache:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._until = -math.inf
        self._listening = True
        # One question at a time: the texts that come while it is asked share its
        # answer (hundreds a second would otherwise each ask the store's one thread).
        self._asking: asyncio.Future[bool] | None = None
        self._generation = 0  # a start (`clear`) makes an answer on its way stale

    async def listening(self, read: Callable[[], Awaitable[bool]]) -> bool:
        if self._clock() < self._until:
            return self._listening
        if self._asking is None:
            self._asking = asyncio.ensure_future(self._ask(read, self._generation))
        # Shielded: a webhook that is cancelled does not cancel the others' question.
        return await asyncio.shield(self._asking)

    async def _ask(self, read: Callable[[], Awaitable[bool]], generation: int) -> bool:
        try:
            listening = await read()
        finally:
            if generation == self._generation:
                self._asking = None
        if generation == self._generation:
            self._listening = listening
            self._until = self._clock() + LISTENING_SECONDS
        return listening

    def clear(self) -> None:
        """A campaign started here: ask the store again."""
        self._generation += 1
        self._asking = None
        self._until = -math.inf
