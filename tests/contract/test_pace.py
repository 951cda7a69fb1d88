"""Pacing shared through the store: every process on one store takes its turns for a
key (a Slack channel's posts, an SMS sender) from one budget, and a platform's
"wait" for a key holds it for all of them. Each store here stands for one process.

Intervals are a minute long, so the turns the store hands out differ by far more than
the time its calls take: the spacing is exact to within seconds on any machine."""

from __future__ import annotations

import pytest

from bridge.store.base import Store
from tests.contract.conftest import StoreFactory

MINUTE = 60.0
SLACK = 5.0  # the seconds a turn may differ by: the time the calls themselves take


async def test_processes_on_one_store_get_turns_spaced_by_the_interval(
    new_store: StoreFactory,
) -> None:
    first, second = await new_store(), await new_store()
    turns = [
        await store.reserve_pace("chat.postMessage:C1", interval=MINUTE, tolerance=0, within=1e4)
        for store in (first, second, first, second)
    ]
    assert all(turn.taken for turn in turns)
    assert [turn.wait for turn in turns] == pytest.approx([0, 60, 120, 180], abs=SLACK)
    assert turns[-1].free_in == pytest.approx(240, abs=SLACK)  # a newcomer's turn


async def test_a_burst_is_taken_at_once_then_the_interval(store: Store) -> None:
    waits = [
        (await store.reserve_pace("k", interval=MINUTE, tolerance=2 * MINUTE, within=1)).wait
        for _ in range(3)
    ]
    assert waits == pytest.approx([0, 0, 0], abs=SLACK)
    later = await store.reserve_pace("k", interval=MINUTE, tolerance=2 * MINUTE, within=1e4)
    assert later.taken
    assert later.wait == pytest.approx(60, abs=SLACK)


async def test_a_turn_beyond_within_is_booked_not_taken_one_after_another(
    new_store: StoreFactory,
) -> None:
    """Callers sent away are each told a turn of their own (they do not all come back at
    once), and a booked turn takes nothing from those who wait."""
    first, second = await new_store(), await new_store()
    assert (await first.reserve_pace("k", interval=MINUTE, tolerance=0, within=1)).taken
    booked = [
        await store.reserve_pace("k", interval=MINUTE, tolerance=0, within=1)
        for store in (second, first, second)
    ]
    assert not any(turn.taken for turn in booked)
    assert [turn.wait for turn in booked] == pytest.approx([60, 120, 180], abs=SLACK)
    assert booked[-1].free_in == pytest.approx(60, abs=SLACK)
    waiting = await first.reserve_pace("k", interval=MINUTE, tolerance=0, within=1e4)
    assert waiting.taken
    assert waiting.wait == pytest.approx(60, abs=SLACK)


async def test_a_hold_by_one_process_holds_the_key_for_every_process(
    new_store: StoreFactory,
) -> None:
    first, second = await new_store(), await new_store()
    await first.hold_pace("chat.postMessage:C1", seconds=2 * MINUTE, tolerance=3 * MINUTE)
    held = await second.reserve_pace(
        "chat.postMessage:C1", interval=MINUTE, tolerance=3 * MINUTE, within=1
    )
    assert not held.taken
    assert held.wait == pytest.approx(120, abs=SLACK)
    assert held.held_for == pytest.approx(120, abs=SLACK)
    # When the hold ends one turn comes, then the interval: the burst was spent.
    after = await second.reserve_pace(
        "chat.postMessage:C1", interval=MINUTE, tolerance=3 * MINUTE, within=1e4
    )
    again = await first.reserve_pace(
        "chat.postMessage:C1", interval=MINUTE, tolerance=3 * MINUTE, within=1e4
    )
    assert [after.wait, again.wait] == pytest.approx([120, 180], abs=SLACK)
    # A shorter wait never shortens a hold.
    await second.hold_pace("chat.postMessage:C1", seconds=1, tolerance=3 * MINUTE)
    assert (await first.pace_held("chat.postMessage:C1")) == pytest.approx(120, abs=SLACK)


async def test_keys_are_paced_and_held_independently(new_store: StoreFactory) -> None:
    first, second = await new_store(), await new_store()
    await first.reserve_pace("chat.postMessage:C1", interval=MINUTE, tolerance=0, within=1)
    await first.hold_pace("chat.update:C1", seconds=MINUTE, tolerance=0)
    other = await second.reserve_pace("chat.postMessage:C2", interval=MINUTE, tolerance=0, within=1)
    assert other.taken
    assert other.wait == pytest.approx(0, abs=SLACK)
    assert other.held_for == 0
    assert await second.pace_held("chat.update:C1") == pytest.approx(60, abs=SLACK)
    assert await second.pace_held("chat.update:C2") == 0
    assert await second.pace_held("never.used:") == 0
