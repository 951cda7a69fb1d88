"""Each write stores the jobs its effect names (`bridge/store/effects.py`) in the same
write, on every engine: nothing more, nothing less."""

from __future__ import annotations

from datetime import UTC, datetime

from bridge.models import MessagePurpose, NewJob
from bridge.store import effects
from bridge.store.base import Store
from tests.contract.conftest import sms
from tests.contract.test_replies import open_thread, reply

FAR = datetime(2100, 1, 1, tzinfo=UTC)


async def stored(store: Store) -> set[str]:
    """The keys of every pending job (each in a lane of its own here)."""
    return {job.key for job in await store.claim_jobs("w", now=FAR, limit=100, lease_seconds=30)}


def keys(jobs: list[NewJob]) -> set[str]:
    return {job.key for job in jobs}


async def test_an_inbound_text_stores_the_jobs_of_after_inbound(store: Store) -> None:
    record = await store.record_inbound(sms("SM1"))
    assert await stored(store) == keys(effects.after_inbound(record.message))


async def test_a_queued_reply_stores_the_jobs_of_after_queued(store: Store) -> None:
    cid = await open_thread(store)
    record = await store.record_outbound(reply(cid), send_at=FAR)
    assert await stored(store) == keys(effects.after_queued(record.message))


async def test_a_system_text_stores_the_jobs_of_after_queued(store: Store) -> None:
    cid = await open_thread(store)
    text = await store.record_system_text(cid, "Bye", MessagePurpose.HELP_REPLY, key="t1")
    assert text is not None
    assert await stored(store) == keys(effects.after_queued(text))


async def test_a_released_reply_stores_the_jobs_of_after_queued(store: Store) -> None:
    cid = await open_thread(store)
    record = await store.record_outbound(reply(cid), send_at=None)
    assert await stored(store) == set()
    released = await store.release_held(
        record.message.id, "support only", MessagePurpose.REPLY, send_at=FAR
    )
    assert released is not None
    assert await stored(store) == keys(effects.after_queued(released))
