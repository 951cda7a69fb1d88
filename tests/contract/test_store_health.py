"""A store whose storage refuses writes says so — `StoreUnavailable` naming the setting,
readiness off — and takes writes again by itself once its storage does."""

from __future__ import annotations

import pytest

from bridge.models import DeliveryStatus, OutboundReply
from bridge.store.base import Store, StoreConflict, StoreUnavailable
from tests.contract.conftest import RefuseWrites, sms
from tests.support import eventually


async def test_a_refused_write_is_store_unavailable_and_the_store_not_ready(
    store: Store, refuse_writes: RefuseWrites
) -> None:
    assert store.refusing is None
    assert await store.ping()
    await refuse_writes(store, True)

    with pytest.raises(StoreUnavailable) as refused:
        await store.record_inbound(sms("SM1"))

    cause = str(refused.value)
    assert cause.startswith(("BRIDGE_DB_PATH: ", "MONGODB_URI: "))
    assert "\n" not in cause
    assert refused.value.reason in cause
    assert store.refusing is not None
    assert store.refusing.reason == refused.value.reason
    assert not await store.ping()


async def test_the_store_takes_writes_again_by_itself(
    store: Store, refuse_writes: RefuseWrites
) -> None:
    await refuse_writes(store, True)
    with pytest.raises(StoreUnavailable):
        await store.record_inbound(sms("SM1"))

    await refuse_writes(store, False)

    await eventually(lambda: store.refusing is None)  # its probe wrote
    assert await store.ping()
    record = await store.record_inbound(sms("SM1"))
    assert record.created  # the refused call left nothing behind


async def test_a_conflict_is_no_refusal(store: Store) -> None:
    record = await store.record_inbound(sms("SM1"))
    outbound = OutboundReply(
        conversation_id=record.conversation.id,
        body="ok",
        author="U1",
        slack_channel="C1",
        slack_ts="200.1",
    )
    reply = (await store.record_outbound(outbound, send_at=None)).message
    with pytest.raises(StoreConflict):
        await store.finish_send(reply.id, DeliveryStatus.SENT, sid="SM1")  # the text's sid

    assert store.refusing is None
    assert await store.ping()
