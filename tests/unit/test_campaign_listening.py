"""Whether any campaign listens is asked of the store at most once a second, and at
once after the store's own campaign starts."""

from __future__ import annotations

import asyncio

from bridge.store.campaign_listening import LISTENING_SECONDS, ListeningCache


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_the_answer_is_kept_a_second_and_cleared_by_a_start() -> None:
    clock = Clock()
    cache = ListeningCache(clock)
    asked: list[bool] = []
    answer = False

    async def read() -> bool:
        asked.append(answer)
        return answer

    assert await cache.listening(read) is False
    answer = True
    assert await cache.listening(read) is False  # kept: no second question
    clock.now += LISTENING_SECONDS
    assert await cache.listening(read) is True
    answer = False
    cache.clear()
    assert await cache.listening(read) is False
    assert asked == [False, True, False]


async def test_texts_arriving_while_the_store_is_asked_share_its_answer() -> None:
    """At hundreds of texts a second, every text that came while the question was on
    its way would otherwise ask it again, each a read on the store's one thread."""
    cache = ListeningCache(Clock())
    answered = asyncio.Event()
    asked = 0

    async def read() -> bool:
        nonlocal asked
        asked += 1
        await answered.wait()
        return False

    waiting = [asyncio.create_task(cache.listening(read)) for _ in range(50)]
    await asyncio.sleep(0)
    answered.set()
    assert await asyncio.gather(*waiting) == [False] * 50
    assert asked == 1
