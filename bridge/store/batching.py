"""Group commit: calls that arrive while a write is in progress are written together
in the next one. Under load one transaction (and one fsync, one trip to the database
thread) serves many webhooks; alone, a call is written at once, with no added wait.

The write takes its batch when it is ready to write (`take`, which any thread may
call): on SQLite, after its turn at the file came, so what arrived while it waited for
another process's commit goes in too, rather than waiting for a turn of its own."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

Take = Callable[[], list[T]]


class GroupCommit(Generic[T, R]):
    def __init__(
        self, write: Callable[[Take[T]], Awaitable[Sequence[R]]], *, max_batch: int = 256
    ) -> None:
        self._write = write
        self._max = max_batch
        # A deque: appended on the event loop, taken from on the database thread.
        self._waiting: deque[tuple[T, asyncio.Future[R]]] = deque()
        self._writer: asyncio.Task[None] | None = None

    async def submit(self, item: T) -> R:
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        while self._waiting:
            taken: list[tuple[T, asyncio.Future[R]]] = []

            def take(taken: list[tuple[T, asyncio.Future[R]]] = taken) -> list[T]:
                while self._waiting and len(taken) < self._max:
                    taken.append(self._waiting.popleft())
                return [item for item, _ in taken]

            try:
                results = await self._write(take)
            except Exception as exc:  # every caller of the batch learns it failed
                if not taken:  # it failed before it took any: those waiting learn it
                    take()
                for _, future in taken:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, future), result in zip(taken, results, strict=True):
                if not future.done():
                    future.set_result(result)
