"""App Home's Campaigns tab is remembered as the viewer's home filter: it round-trips
like the inbox filters and lists no conversation, on every engine."""

from __future__ import annotations

from bridge.models import InboxFilter
from bridge.store.base import Store
from tests.contract.conftest import sms


async def test_the_campaigns_tab_is_remembered_and_lists_no_conversation(store: Store) -> None:
    await store.record_inbound(sms("SM1"))
    await store.set_home_filter("U1", InboxFilter.CAMPAIGNS)

    assert await store.home_viewers() == {"U1": InboxFilter.CAMPAIGNS}
    assert await store.list_conversations(InboxFilter.CAMPAIGNS, user="U1") == []
    assert len(await store.list_conversations(InboxFilter.ALL)) == 1
