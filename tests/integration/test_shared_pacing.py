"""The shared pacer: Pacer's interface (take, acquire, hold, held_for, delay) over the
store, so every process on one store takes its turns from one budget per key. Two
pacers, each on its own store of one SQLite file, stand for two processes.

Rates are a turn a minute, so the turns differ by far more than the calls take."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from bridge.delivery.errors import RetryLater
from bridge.delivery.pacing import Pacer, Pacing, Rate
from bridge.delivery.shared_pacing import SharedPacer, make_pacer
from bridge.models import PaceTurn
from bridge.store.base import StoreUnavailable
from bridge.store.sqlite import SQLiteStore
from tests.support import bounded, eventually

SLACK = 5.0  # seconds: what a turn may differ by, the time the calls themselves take


def a_minute(_key: str) -> Rate:
    return Rate(per_second=1 / 60, burst=1)


Processes = Callable[[Callable[[str], Rate]], Awaitable[SharedPacer]]


@pytest.fixture
async def process(tmp_path: Path) -> AsyncIterator[Processes]:
    """Makes pacers, each on a store of its own on one SQLite file."""
    opened: list[tuple[SQLiteStore, SharedPacer]] = []

    async def make(rate_for: Callable[[str], Rate]) -> SharedPacer:
        store = SQLiteStore(tmp_path / "bridge.db")
        await store.open()
        pacer = SharedPacer(store, rate_for)
        opened.append((store, pacer))
        return pacer

    yield make
    for store, pacer in opened:
        await bounded(pacer.close())
        await bounded(store.close())


async def test_processes_take_turns_from_one_budget(process: Processes) -> None:
    first, second = await process(a_minute), await process(a_minute)
    await first.take("chat.postMessage:C1", within=1)  # at once: the key's first turn
    with pytest.raises(RetryLater) as later:
        await second.take("chat.postMessage:C1", within=1)
    assert later.value.throttled
    assert later.value.after == pytest.approx(60, abs=SLACK)
    # What each process last heard from the store: the next turn is a minute off.
    assert second.delay("chat.postMessage:C1") == pytest.approx(60, abs=SLACK)
    assert first.delay("chat.postMessage:C1") == pytest.approx(60, abs=SLACK)
    await second.take("chat.postMessage:C2", within=1)  # other keys never waited
    assert second.delay("chat.postMessage:C3") == 0


async def test_those_sent_away_are_given_turns_one_after_another(process: Processes) -> None:
    first, second = await process(a_minute), await process(a_minute)
    await first.take("chat.update:", within=1)
    turns = []
    for pacer in (second, first, second):
        with pytest.raises(RetryLater) as later:
            await pacer.take("chat.update:", within=1)
        turns.append(later.value.after)
    assert turns == pytest.approx([60, 120, 180], abs=SLACK)


async def test_a_hold_in_one_process_holds_the_key_in_every_process(process: Processes) -> None:
    first, second = await process(a_minute), await process(a_minute)
    first.hold("chat.postMessage:C1", 120)  # Slack's Retry-After, seen by the first
    assert first.held_for("chat.postMessage:C1") == pytest.approx(120, abs=SLACK)
    # The second process learns of it from the store: its posts there wait it out...
    await eventually(lambda: second.held_for("chat.postMessage:C1") > 100, within=30)
    with pytest.raises(RetryLater) as later:
        await second.take("chat.postMessage:C1", within=1)
    assert later.value.after == pytest.approx(120, abs=SLACK)
    # ...and a hold narrower than its method's budget (one channel's chat.update).
    second.hold("chat.update:C2", 90)
    await eventually(lambda: first.held_for("chat.update:C2") > 70, within=30)
    assert first.held_for("chat.update:C3") == 0


async def test_acquire_waits_for_its_turn_however_long(process: Processes) -> None:
    fast = await process(lambda _key: Rate(per_second=20, burst=1))
    await fast.acquire("sms:+15005550006")
    await fast.acquire("sms:+15005550006")  # about 50 ms later: waited, not refused
    assert fast.delay("sms:+15005550006") > 0


def test_one_process_paces_in_memory_and_several_through_the_store(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "bridge.db")
    alone: Pacing = make_pacer(a_minute, shared=None)
    together: Pacing = make_pacer(a_minute, shared=store)
    assert isinstance(alone, Pacer)
    assert isinstance(together, SharedPacer)


class RefusingStore:
    """A store whose storage refuses writes (a full disk, no MongoDB primary)."""

    async def reserve_pace(
        self, key: str, *, interval: float, tolerance: float, within: float
    ) -> PaceTurn:
        raise StoreUnavailable("BRIDGE_DB_PATH: refuses writes", reason="disk full")

    async def hold_pace(self, key: str, *, seconds: float, tolerance: float) -> None:
        raise StoreUnavailable("BRIDGE_DB_PATH: refuses writes", reason="disk full")

    async def pace_held(self, key: str) -> float:
        raise StoreUnavailable("BRIDGE_DB_PATH: refuses writes", reason="disk full")


async def test_while_the_store_refuses_writes_a_process_paces_in_memory() -> None:
    """A look-up for a Slack listener still gets its turn (or a plainer answer) while the
    store is out; the pace is then this process's alone."""
    pacer = SharedPacer(RefusingStore(), a_minute)
    await pacer.take("users.info:", within=1)
    with pytest.raises(RetryLater) as later:
        await pacer.take("users.info:", within=1)
    assert later.value.after == pytest.approx(60, abs=SLACK)
    assert pacer.delay("users.info:") == pytest.approx(60, abs=SLACK)
    pacer.hold("chat.postMessage:C1", 30)
    assert pacer.held_for("chat.postMessage:C1") == pytest.approx(30, abs=SLACK)
    await bounded(pacer.close())
