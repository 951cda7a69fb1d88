"""Group commit (bridge/store/batching.py): a write takes its batch when it is ready to
write, so what arrives while it waits (for another process's commit) goes in with it."""

from __future__ import annotations

import asyncio

import pytest

from bridge.store.batching import GroupCommit, Take


async def test_what_arrives_while_a_write_waits_for_its_turn_goes_in_with_it() -> None:
    turn = asyncio.Event()
    batches: list[list[str]] = []

    async def write(take: Take[str]) -> list[str]:
        await turn.wait()  # another process is committing
        batch = take()
        batches.append(batch)
        return [item.upper() for item in batch]

    commit: GroupCommit[str, str] = GroupCommit(write)
    first = asyncio.create_task(commit.submit("a"))
    await asyncio.sleep(0)  # its write has started, and waits
    later = [asyncio.create_task(commit.submit(item)) for item in "bc"]
    await asyncio.sleep(0)
    turn.set()
    assert await asyncio.gather(first, *later) == ["A", "B", "C"]
    assert batches == [["a", "b", "c"]]


async def test_a_batch_is_at_most_its_size_and_the_rest_follows() -> None:
    batches: list[list[int]] = []

    async def write(take: Take[int]) -> list[int]:
        batches.append(take())
        return batches[-1]

    commit: GroupCommit[int, int] = GroupCommit(write, max_batch=2)
    assert await asyncio.gather(*(commit.submit(n) for n in range(5))) == list(range(5))
    assert [len(b) for b in batches] == [2, 2, 1]  # all five wait before the first write


async def test_a_write_that_fails_before_it_takes_fails_those_waiting() -> None:
    async def write(take: Take[str]) -> list[str]:
        raise OSError("disk I/O error")

    commit: GroupCommit[str, str] = GroupCommit(write)
    results = await asyncio.gather(*(commit.submit(i) for i in "ab"), return_exceptions=True)
    assert [type(r) for r in results] == [OSError, OSError]
    with pytest.raises(OSError, match="disk"):
        await commit.submit("c")  # and the next is not left waiting
