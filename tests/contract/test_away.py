"""The away switch: one for the workspace, the same from every process."""

from __future__ import annotations

from datetime import timedelta

from bridge.models import Away
from bridge.store.base import Store
from tests.contract.conftest import T0, StoreFactory


async def test_away_is_off_until_turned_on(store: Store) -> None:
    assert await store.away() is None


async def test_away_round_trips_and_turns_off(store: Store) -> None:
    until = Away(since=T0, until=T0 + timedelta(hours=3), by="U1")
    await store.set_away(until)
    assert await store.away() == until
    open_ended = Away(since=T0 + timedelta(minutes=5), by="U2")
    await store.set_away(open_ended)  # turning it on again replaces the first
    assert await store.away() == open_ended
    await store.set_away(None)
    assert await store.away() is None
    await store.set_away(None)  # off twice is still off
    assert await store.away() is None


async def test_a_second_process_sees_the_switch(new_store: StoreFactory, store: Store) -> None:
    await store.set_away(Away(since=T0, by="U1"))
    other = await new_store()
    assert await other.away() == Away(since=T0, by="U1")
