"""The outbox: coalescing, lanes, leases, retries and dead jobs, on every engine."""

from __future__ import annotations

import asyncio
import random
from collections import defaultdict
from datetime import datetime, timedelta

from bridge.models import Job, JobKind, NewJob
from bridge.store.base import Store
from tests.contract.conftest import T0, StoreFactory

LEASE = 30.0


def job(
    key: str, lane: str = "lane:a", kind: JobKind = JobKind.SYNC_HEADER, **extra: object
) -> NewJob:
    return NewJob(key=key, kind=kind, lane=lane, **extra)


async def claim(store: Store, now: datetime = T0, limit: int = 10, owner: str = "w1") -> list[Job]:
    return await store.claim_jobs(owner, now=now, limit=limit, lease_seconds=LEASE)


async def keys(store: Store, now: datetime = T0, limit: int = 10) -> list[str]:
    return [j.key for j in await claim(store, now, limit)]


async def test_enqueue_then_claim(store: Store) -> None:
    await store.enqueue(
        job("h:1", conversation_id=7, message_id="m1", note="why", user="U1"), run_at=T0
    )

    [claimed] = await claim(store)

    assert claimed.key == "h:1"
    assert claimed.kind is JobKind.SYNC_HEADER
    assert claimed.lane == "lane:a"
    assert claimed.conversation_id == 7
    assert claimed.message_id == "m1"
    assert claimed.note == "why"
    assert claimed.user == "U1"
    assert claimed.attempts == 1
    assert claimed.created_at == T0
    assert claimed.lease_token
    assert await claim(store) == []  # leased: nobody else gets it


async def test_job_is_not_due_before_run_at(store: Store) -> None:
    await store.enqueue(job("h:1"), run_at=T0 + timedelta(seconds=10))

    assert await claim(store, T0 + timedelta(seconds=9.999)) == []
    assert await keys(store, T0 + timedelta(seconds=10)) == ["h:1"]


async def test_pending_key_coalesces(store: Store) -> None:
    await store.enqueue(job("h:1", note="first"), run_at=T0)
    await store.enqueue(job("h:1", note="second"), run_at=T0 + timedelta(hours=1))

    assert await store.queue_depth() == {JobKind.SYNC_HEADER.value: 1}
    [claimed] = await claim(store)  # still due at the first run_at
    assert claimed.note == "first"  # the pending job stays as it is


async def test_complete_removes_the_job_once(store: Store) -> None:
    await store.enqueue(job("h:1"), run_at=T0)
    [claimed] = await claim(store)

    assert await store.complete_job(claimed) is True
    assert await store.queue_depth() == {}
    assert await store.complete_job(claimed) is False
    assert await claim(store, T0 + timedelta(hours=1)) == []


async def test_reenqueue_of_running_job_runs_it_again(store: Store) -> None:
    await store.enqueue(job("h:1", note="old", user="U1"), run_at=T0)
    [first] = await claim(store)

    await store.enqueue(job("h:1", note="new", user="U2"), run_at=T0)

    assert await store.queue_depth() == {JobKind.SYNC_HEADER.value: 1}
    assert await claim(store) == []  # still running
    assert await store.complete_job(first) is False  # this run's result is stale
    [second] = await claim(store)
    assert second.key == "h:1"
    assert second.lease_token != first.lease_token
    assert second.attempts == 1  # attempts reset
    assert (second.note, second.user) == ("old", "U1")  # left as it was, like a pending key
    assert await store.retry_job(first, run_at=T0, error="late") is False
    assert await store.kill_job(first, error="late") is False
    assert await store.complete_job(second) is True  # it ran once more: done
    assert await store.queue_depth() == {}


async def test_reenqueue_of_running_job_runs_again_at_once(store: Store) -> None:
    """Due at once when its run ends, whatever run_at the enqueue asked for, and by
    the clock of the claims (not the wall clock)."""
    await store.enqueue(job("h:1"), run_at=T0)
    [first] = await claim(store)
    await store.enqueue(job("h:1"), run_at=T0 + timedelta(hours=1))

    assert await store.complete_job(first) is False

    assert await keys(store, T0) == ["h:1"]


async def test_reenqueue_of_running_job_goes_to_the_lane_tail(store: Store) -> None:
    await store.enqueue(job("a:1"), run_at=T0)
    await store.enqueue(job("a:2"), run_at=T0)
    [first] = await claim(store)
    assert first.key == "a:1"

    await store.enqueue(job("a:1"), run_at=T0)

    assert await claim(store) == []  # nothing else of the lane runs meanwhile
    assert await store.complete_job(first) is False
    assert await keys(store) == ["a:2"]
    assert await keys(store) == []  # a:1 waits behind a:2 now


async def test_reenqueued_running_job_waits_for_the_old_run(store: Store) -> None:
    """The run in flight keeps the lane until it ends or its lease runs out."""
    await store.enqueue(job("a:1"), run_at=T0)
    await store.enqueue(job("a:2"), run_at=T0)
    [old] = await claim(store)
    await store.enqueue(job("a:1"), run_at=T0)
    expiry = T0 + timedelta(seconds=LEASE)

    assert await claim(store, expiry - timedelta(milliseconds=1)) == []
    [by_expiry] = await claim(store, expiry)  # the old run's worker died
    assert by_expiry.key == "a:1"  # not a:2
    assert await store.complete_job(old) is False
    assert await claim(store, expiry) == []  # the new run holds the lane
    await store.complete_job(by_expiry)
    ran = []
    while batch := await claim(store, expiry):
        for claimed in batch:
            ran.append(claimed.key)
            await store.complete_job(claimed)
    assert "a:2" in ran
    assert await store.queue_depth() == {}


async def test_retry_clears_the_rerun_mark(store: Store) -> None:
    await store.enqueue(job("h:1"), run_at=T0)
    [first] = await claim(store)
    await store.enqueue(job("h:1"), run_at=T0)

    assert await store.retry_job(first, run_at=T0, error="429") is True

    [again] = await claim(store)
    assert again.attempts == 2  # a retry, not a fresh job
    assert await store.complete_job(again) is True  # the retry was the run once more
    assert await store.queue_depth() == {}


async def test_kill_clears_the_rerun_mark(store: Store) -> None:
    await store.enqueue(job("h:1"), run_at=T0)
    [first] = await claim(store)
    await store.enqueue(job("h:1"), run_at=T0)

    assert await store.kill_job(first, error="gone") is True

    assert await store.queue_depth() == {"dead": 1}
    await store.enqueue(job("h:1"), run_at=T0)  # revived
    [again] = await claim(store)
    assert again.attempts == 1
    assert await store.complete_job(again) is True
    assert await store.queue_depth() == {}


async def test_reenqueue_of_completed_key_is_a_new_job(store: Store) -> None:
    await store.enqueue(job("h:1"), run_at=T0)
    [first] = await claim(store)
    await store.complete_job(first)

    await store.enqueue(job("h:1"), run_at=T0 + timedelta(seconds=5))

    assert await claim(store, T0) == []
    [second] = await claim(store, T0 + timedelta(seconds=5))
    assert second.attempts == 1


async def test_lane_runs_one_job_at_a_time_in_enqueue_order(store: Store) -> None:
    await store.enqueue(job("a:1", lane="lane:a"), run_at=T0)
    await store.enqueue(job("a:2", lane="lane:a"), run_at=T0)
    await store.enqueue(job("b:1", lane="lane:b"), run_at=T0)
    await store.enqueue(job("a:3", lane="lane:a"), run_at=T0)

    first = await claim(store)
    assert sorted(j.key for j in first) == ["a:1", "b:1"]  # other lanes run alongside
    assert await claim(store) == []

    by_key = {j.key: j for j in first}
    assert await store.complete_job(by_key["a:1"])
    assert await keys(store) == ["a:2"]
    assert await claim(store) == []


async def test_lane_head_not_yet_due_blocks_its_lane(store: Store) -> None:
    await store.enqueue(job("a:1"), run_at=T0 + timedelta(seconds=60))
    await store.enqueue(job("a:2"), run_at=T0)  # due, but behind a:1

    assert await claim(store, T0) == []
    assert await keys(store, T0 + timedelta(seconds=60)) == ["a:1"]


async def test_claim_limit_takes_oldest_lanes_first(store: Store) -> None:
    for lane in ("x", "y", "z"):
        await store.enqueue(job(f"{lane}:1", lane=lane), run_at=T0)

    assert await keys(store, limit=2) == ["x:1", "y:1"]
    assert await keys(store, limit=2) == ["z:1"]
    assert await claim(store, limit=0) == []


async def test_retry_with_future_run_at_holds_the_lane(store: Store) -> None:
    await store.enqueue(job("a:1"), run_at=T0)
    await store.enqueue(job("a:2"), run_at=T0)
    await store.enqueue(job("b:1", lane="lane:b"), run_at=T0)
    claimed = {j.key: j for j in await claim(store)}
    later = T0 + timedelta(seconds=20)

    assert await store.retry_job(claimed["a:1"], run_at=later, error="429") is True

    assert await store.complete_job(claimed["a:1"]) is False  # that lease is over
    assert await claim(store, T0 + timedelta(seconds=19)) == []  # a:2 waits behind a:1
    assert await store.complete_job(claimed["b:1"])
    [again] = await claim(store, later)
    assert again.key == "a:1"
    assert again.attempts == 2  # attempts count on across retries
    assert again.lease_token != claimed["a:1"].lease_token
    assert await store.complete_job(again)
    assert await keys(store, later) == ["a:2"]


async def test_expired_lease_is_claimable_by_another_owner(store: Store) -> None:
    await store.enqueue(job("a:1"), run_at=T0)
    await store.enqueue(job("a:2"), run_at=T0)
    [first] = await claim(store, owner="dead-worker")
    expiry = T0 + timedelta(seconds=LEASE)

    assert await claim(store, expiry - timedelta(milliseconds=1), owner="w2") == []
    [second] = await claim(store, expiry, owner="w2")

    assert second.key == "a:1"  # not a:2: the lane still waits for a:1
    assert second.lease_token != first.lease_token
    assert second.attempts == 2
    assert await store.complete_job(first) is False
    assert await store.retry_job(first, run_at=T0, error="x") is False
    assert await store.kill_job(first, error="x") is False
    assert await store.complete_job(second) is True
    assert await keys(store, expiry) == ["a:2"]


async def test_extend_lease_keeps_the_job_and_its_lane(store: Store) -> None:
    await store.enqueue(job("a:1"), run_at=T0)
    await store.enqueue(job("a:2"), run_at=T0)
    [first] = await claim(store)
    extended = T0 + timedelta(seconds=120)

    assert await store.extend_lease(first, until=extended) is True

    assert await claim(store, T0 + timedelta(seconds=LEASE), owner="w2") == []
    assert await claim(store, extended - timedelta(milliseconds=1), owner="w2") == []
    [second] = await claim(store, extended, owner="w2")  # its worker stopped beating
    assert second.key == "a:1"
    assert second.attempts == 2
    assert await store.extend_lease(first, until=extended + timedelta(hours=1)) is False
    assert await store.complete_job(second) is True
    assert await store.extend_lease(second, until=extended) is False
    assert await keys(store, extended) == ["a:2"]


async def test_extend_lease_of_a_reenqueued_job_still_works(store: Store) -> None:
    await store.enqueue(job("a:1"), run_at=T0)
    [first] = await claim(store)
    await store.enqueue(job("a:1"), run_at=T0)
    extended = T0 + timedelta(seconds=120)

    assert await store.extend_lease(first, until=extended) is True

    assert await claim(store, T0 + timedelta(seconds=LEASE), owner="w2") == []
    assert await store.complete_job(first) is False  # then it runs once more
    [again] = await claim(store)
    assert again.key == "a:1"
    assert again.attempts == 1
    assert again.lease_token != first.lease_token
    assert await store.complete_job(again) is True


async def test_kill_job_makes_it_dead_and_its_lane_moves_on(store: Store) -> None:
    await store.enqueue(job("a:1", kind=JobKind.POST_INBOUND), run_at=T0)
    await store.enqueue(job("a:2"), run_at=T0)
    [first] = await claim(store)

    assert await store.kill_job(first, error="gone") is True

    assert await store.queue_depth() == {JobKind.SYNC_HEADER.value: 1, "dead": 1}
    [second] = await claim(store)
    assert second.key == "a:2"
    assert await store.kill_job(first, error="again") is False
    assert await store.complete_job(first) is False
    assert await store.complete_job(second) is True
    assert await claim(store, T0 + timedelta(days=1)) == []  # dead jobs never run


async def test_reenqueue_of_dead_key_runs_it_again(store: Store) -> None:
    await store.enqueue(job("a:1", note="old", user="U1"), run_at=T0)
    [first] = await claim(store)
    await store.kill_job(first, error="gone")

    await store.enqueue(job("a:1", note="new", user="U2"), run_at=T0)

    assert await store.queue_depth() == {JobKind.SYNC_HEADER.value: 1}
    [again] = await claim(store)
    assert again.attempts == 1
    assert (again.note, again.user) == ("new", "U2")


async def test_queue_depth_counts_unfinished_by_kind_and_dead(store: Store) -> None:
    assert await store.queue_depth() == {}
    await store.enqueue(job("p:1", lane="l1", kind=JobKind.POST_INBOUND), run_at=T0)
    await store.enqueue(job("p:2", lane="l2", kind=JobKind.POST_INBOUND), run_at=T0)
    await store.enqueue(job("h:1", lane="l3"), run_at=T0 + timedelta(hours=1))
    await store.enqueue(job("r:1", lane="l4", kind=JobKind.REPORT_DEAD), run_at=T0)
    claimed = {j.key: j for j in await claim(store)}
    await store.kill_job(claimed["r:1"], error="x")
    await store.complete_job(claimed["p:2"])

    # p:1 is running, h:1 pending, p:2 done, r:1 dead.
    assert await store.queue_depth() == {
        JobKind.POST_INBOUND.value: 1,
        JobKind.SYNC_HEADER.value: 1,
        "dead": 1,
    }


async def test_two_processes_never_claim_the_same_job(new_store: StoreFactory) -> None:
    one, two = await new_store(), await new_store()
    for i in range(6):
        await one.enqueue(job(f"j:{i}", lane=f"lane:{i % 3}"), run_at=T0)

    results = await asyncio.gather(
        *(claim(s, owner=f"w{n}", limit=10) for n, s in enumerate((one, two, one, two)))
    )

    claimed = [j for batch in results for j in batch]
    assert sorted(j.key for j in claimed) == ["j:0", "j:1", "j:2"]  # one per lane


async def test_lanes_stay_exclusive_and_ordered_under_concurrency(
    new_store: StoreFactory,
) -> None:
    """Producers enqueue into shared lanes while workers of two processes claim: a lane
    never runs two jobs at once, and each producer's jobs of a lane run in its order."""
    stores = [await new_store(), await new_store()]
    lanes = [f"lane:{n}" for n in range(3)]
    per_producer = 8
    rng = random.Random(7)
    running: dict[str, str] = {}
    done: dict[str, list[str]] = defaultdict(list)
    overlaps: list[str] = []
    producing = True

    async def produce(store: Store, producer: str) -> None:
        for i in range(per_producer):
            for lane in lanes:
                await store.enqueue(job(f"{lane}/{producer}/{i}", lane=lane), run_at=T0)
                for _ in range(rng.randint(0, 4)):
                    await asyncio.sleep(0)

    async def work(store: Store, owner: str) -> None:
        idle = 0
        while producing or idle < 3:
            jobs = await claim(store, owner=owner, limit=2)
            idle = 0 if jobs else idle + 1
            for claimed in jobs:
                if claimed.lane in running:
                    overlaps.append(f"{claimed.key} while {running[claimed.lane]}")
                running[claimed.lane] = claimed.key
            for _ in range(rng.randint(0, 3)):
                await asyncio.sleep(0)
            for claimed in jobs:
                running.pop(claimed.lane, None)
                done[claimed.lane].append(claimed.key)
                assert await store.complete_job(claimed)
            await asyncio.sleep(0)

    async def produce_all() -> None:
        nonlocal producing
        await asyncio.gather(produce(stores[0], "p0"), produce(stores[1], "p1"))
        producing = False

    await asyncio.wait_for(
        asyncio.gather(
            produce_all(),
            *(work(stores[n % 2], f"w{n}") for n in range(4)),
        ),
        timeout=20,
    )

    assert overlaps == []
    for lane in lanes:
        assert len(done[lane]) == 2 * per_producer
        for producer in ("p0", "p1"):
            mine = [k for k in done[lane] if f"/{producer}/" in k]
            assert mine == [f"{lane}/{producer}/{i}" for i in range(per_producer)]
    assert await stores[0].queue_depth() == {}


async def test_a_throttled_retry_does_not_use_up_an_attempt(store: Store) -> None:
    await store.enqueue(job("a:1"), run_at=T0)
    [first] = await claim(store)
    assert await store.retry_job(first, run_at=T0, error="paced", counted=False) is True
    [again] = await claim(store)
    assert again.attempts == 1
    assert await store.retry_job(again, run_at=T0, error="failed") is True
    [third] = await claim(store)
    assert third.attempts == 2
