"""The record of posts into Slack (what makes each post happen once): the same
behaviour on every engine."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bridge.models import utcnow
from bridge.store.base import Store
from tests.contract.conftest import StoreFactory, sms

# Records expire after a week (MongoDB's TTL index): these are recent, in whole seconds.
T0 = utcnow().replace(microsecond=0)


async def test_a_post_is_recorded_once_and_lands_once(store: Store) -> None:
    first = await store.begin_post("text:1", "C1", "100.1", at=T0, detail="with_draft")
    assert first.resumed is False
    assert (first.post.key, first.post.channel, first.post.thread_ts) == ("text:1", "C1", "100.1")
    assert first.post.started_at == T0
    assert first.post.ts is None
    assert first.post.detail == "with_draft"

    again = await store.begin_post("text:1", "C1", "100.1", at=T0 + timedelta(seconds=5))
    assert again.resumed is True
    assert again.post == first.post  # the first attempt's record, not a new one

    assert await store.land_post("text:1", "100.2") is True
    assert await store.land_post("text:1", "100.3") is False  # the first ts stays
    landed = await store.begin_post("text:1", "C1", "100.1", at=T0)
    assert landed.resumed is True
    assert landed.post.ts == "100.2"


async def test_landing_an_unknown_key_changes_nothing(store: Store) -> None:
    assert await store.land_post("unknown", "1.0") is False
    assert (await store.begin_post("unknown", "C1", None, at=T0)).resumed is False


async def test_a_dropped_attempt_starts_afresh_but_a_landed_one_stays(store: Store) -> None:
    await store.begin_post("note:1", "C1", "1.0", at=T0)
    await store.drop_post("note:1")
    fresh = await store.begin_post("note:1", "C1", "1.0", at=T0 + timedelta(minutes=1))
    assert fresh.resumed is False
    assert fresh.post.started_at == T0 + timedelta(minutes=1)

    await store.land_post("note:1", "1.5")
    await store.drop_post("note:1")  # too late: it landed
    assert (await store.begin_post("note:1", "C1", "1.0", at=T0)).post.ts == "1.5"


async def test_unsettled_posts_are_a_channels_unknown_attempts_oldest_first(store: Store) -> None:
    await store.begin_post("b", "C1", None, at=T0 + timedelta(seconds=2))
    await store.begin_post("a", "C1", "5.0", at=T0)
    await store.begin_post("c", "C2", None, at=T0)
    await store.begin_post("d", "C1", None, at=T0 + timedelta(seconds=1))
    await store.land_post("d", "9.0")

    unsettled = await store.unsettled_posts("C1")
    assert [(p.key, p.thread_ts) for p in unsettled] == [("a", "5.0"), ("b", None)]
    assert await store.unsettled_posts("C3") == []


async def test_concurrent_attempts_of_one_key_have_one_first(new_store: StoreFactory) -> None:
    one, two = await new_store(), await new_store()
    results = await asyncio.gather(
        one.begin_post("text:9", "C1", "1.0", at=T0), two.begin_post("text:9", "C1", "1.0", at=T0)
    )
    assert sorted(r.resumed for r in results) == [False, True]


async def test_a_vanished_thread_moves_the_epoch_on(store: Store) -> None:
    cid = (await store.record_inbound(sms("SM1"))).conversation.id
    assert (await store.get_conversation(cid)).thread_epoch == 0  # type: ignore[union-attr]
    await store.set_thread(cid, "C1", "100.1", replacing=None)
    assert await store.clear_thread(cid, "999.9") is False  # not the current thread
    assert await store.clear_thread(cid, "100.1") is True
    cleared = await store.get_conversation(cid)
    assert cleared is not None
    assert cleared.thread_epoch == 1
    await store.set_thread(cid, "C1", "100.2", replacing=None)
    assert await store.clear_thread(cid, "100.2") is True
    assert (await store.get_conversation(cid)).thread_epoch == 2  # type: ignore[union-attr]


async def test_a_drop_names_the_attempt_it_settles(store: Store) -> None:
    await store.begin_post("parent:1:0", "C1", None, at=T0)
    await store.drop_post("parent:1:0", started_at=T0 + timedelta(seconds=1))  # another one
    assert (await store.begin_post("parent:1:0", "C1", None, at=T0)).resumed is True
    await store.drop_post("parent:1:0", started_at=T0)
    assert (await store.begin_post("parent:1:0", "C1", None, at=T0)).resumed is False


async def test_a_landed_post_is_found_where_it_landed(store: Store) -> None:
    await store.begin_post("parent:1:0", "C1", None, at=T0)
    await store.begin_post("parent:2:0", "C1", None, at=T0)
    assert await store.landed_post("C1", "100.1") is None  # none landed yet
    await store.land_post("parent:1:0", "100.1")
    found = await store.landed_post("C1", "100.1")
    assert found is not None
    assert (found.key, found.ts) == ("parent:1:0", "100.1")
    assert await store.landed_post("C2", "100.1") is None  # another channel's ts
