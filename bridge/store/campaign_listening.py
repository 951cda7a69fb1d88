"""Whether any campaign's texts may be answered or quoted now, asked of the store at
most once a second: an ordinary text then costs no campaign lookup while no campaign
listens (the inbox's everyday case; the lookup took a fifth of the intake's rate).
The store's own campaign starts clear it at once; another process's are seen within
LISTENING_SECONDS, far sooner than a person can read a text and answer it."""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable

LISTENING_SECONDS = 1.0


class ListeningCache:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._until = -math.inf
        self._listening = True

    async def listening(self, read: Callable[[], Awaitable[bool]]) -> bool:
        if self._clock() < self._until:
            return self._listening
        self._listening = await read()
        self._until = self._clock() + LISTENING_SECONDS
        return self._listening

    def clear(self) -> None:
        """A campaign started here: ask the store again."""
        self._until = -math.inf
