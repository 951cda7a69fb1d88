"""Whether any campaign listens is asked of the store at most once a second, and at
once after the store's own campaign starts."""

from __future__ import annotations

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
