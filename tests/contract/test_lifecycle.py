"""Opening, reopening and readiness, on every engine."""

from __future__ import annotations

from datetime import timedelta

from bridge.models import JobKind
from bridge.store.base import Store
from tests.contract.conftest import T0, StoreFactory, sms


async def test_ping(store: Store) -> None:
    assert await store.ping() is True


async def test_reopening_keeps_the_data(new_store: StoreFactory) -> None:
    first = await new_store()
    record = await first.record_inbound(sms("SM1"))

    # A second process (or a restart) opens the same store: schema/indexes exist.
    second = await new_store()

    assert await second.get_message(record.message.id) == record.message
    assert (await second.record_inbound(sms("SM1"))).created is False
    assert await second.queue_depth() == {JobKind.POST_INBOUND.value: 1}
    [job] = await second.claim_jobs("w", now=T0 + timedelta(seconds=1), limit=5, lease_seconds=5)
    assert job.message_id == record.message.id
