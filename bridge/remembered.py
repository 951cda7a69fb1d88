"""A bounded memo that drops its least recently used entry when full.

Not cleared when full: a cleared memo saws between empty and full, and the process
keeps the peaks (freed small objects leave their memory pools part-used), so its size
creeps for hours. Dropping one entry per new one keeps it level once full. For one
thread (the event loop's)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Remembered(Generic[K, V]):
    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError("a memo holds at least one entry")
        self._size = size
        self._values: OrderedDict[K, V] = OrderedDict()

    def recall(self, key: K, work: Callable[[], V]) -> V:
        """The value remembered for `key`, or `work()`'s, remembered."""
        try:
            value = self._values[key]
        except KeyError:
            value = self._values[key] = work()
            if len(self._values) > self._size:
                self._values.popitem(last=False)
            return value
        self._values.move_to_end(key)
        return value


class Recent(Generic[K]):
    """The last `size` keys noted, the oldest forgotten first: a set for what is worth
    knowing for a while, where forgetting costs a little work and never a wrong answer."""

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError("a memo holds at least one entry")
        self._size = size
        self._keys: OrderedDict[K, None] = OrderedDict()

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def __len__(self) -> int:
        return len(self._keys)

    def add(self, key: K) -> None:
        self._keys[key] = None
        self._keys.move_to_end(key)
        if len(self._keys) > self._size:
            self._keys.popitem(last=False)

    def discard(self, key: K) -> None:
        self._keys.pop(key, None)
