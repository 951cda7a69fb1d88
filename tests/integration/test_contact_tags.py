"""`/sms contact` edits a contact's tags (what segments and routing rules select by)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.sandbox.slack_emulator import SlackEmulator
from bridge.sandbox.wiring import INBOX
from bridge.store.base import Store
from bridge.store.sqlite import SQLiteStore
from tests.support import AGENT, BridgeUnderTest, open_thread, slash

ANA = "+14155550123"


@pytest.fixture
def bridge_store(db_path: Path) -> Store:
    return SQLiteStore(db_path)


async def test_sms_contact_sets_tags_as_the_import_writes_them(
    bridge: BridgeUnderTest, bridge_store: Store, slack: SlackEmulator
) -> None:
    slack.add_user(AGENT, "ana", "Ana Ruiz")
    slack.join(INBOX, AGENT)
    await open_thread(bridge, slack, ANA)

    await slash(bridge, slack, 'contact #1 name="Ana Ruiz" tags="VIP; regulars"')

    contact = await bridge_store.get_contact(ANA)
    assert contact is not None
    assert contact.tags == ("vip", "regulars")
    assert contact.fields == {}
    await slash(bridge, slack, "contact #1 tags=")
    cleared = await bridge_store.get_contact(ANA)
    assert cleared is not None
    assert (cleared.name, cleared.tags) == ("Ana Ruiz", ())
