"""A database of the release before channels (8bdd3dd) opens in this one: its
conversations become SMS conversations that keep their Slack threads, assignees and
consent, and the same numbers can start WhatsApp conversations beside them."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from pymongo import ASCENDING, AsyncMongoClient

from bridge.models import Channel, InboundSms
from bridge.store.base import Store
from bridge.store.mongo import MongoStore
from bridge.store.sqlite import MIGRATIONS, SQLiteStore
from tests.contract.conftest import MockClient

RELEASE_DB = Path(__file__).parent / "fixtures" / "release-8bdd3dd.sql"
BUSINESS = "+14155550100"
ANA, BO = "+14155550123", "+14155550177"  # Bo texted STOP
THREAD_1, THREAD_2 = "1700000000.000100", "1700000000.000200"
AT = datetime(2026, 11, 2, 17, 0, tzinfo=UTC)
LATER = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)


def text(sid: str, subscriber: str, channel: Channel = Channel.SMS) -> InboundSms:
    return InboundSms(
        sid=sid,
        channel=channel,
        business_number=BUSINESS,
        subscriber=subscriber,
        body="hello again",
        received_at=LATER,
    )


async def assert_kept_and_keyed_by_channel(store: Store) -> None:
    ana = await store.find_conversation(BUSINESS, ANA)
    assert ana is not None
    assert (ana.id, ana.channel, ana.assignee) == (1, Channel.SMS, "U0ANA")
    assert (ana.slack_channel, ana.slack_thread_ts) == ("C0INBOX", THREAD_1)
    bo = await store.find_conversation(BUSINESS, BO, Channel.SMS)
    assert bo is not None
    assert (bo.id, bo.slack_thread_ts) == (2, THREAD_2)
    assert not (await store.consent_state(BUSINESS, BO)).conversational
    assert (await store.consent_state(BUSINESS, BO, Channel.WHATSAPP)).conversational
    assert {event.channel for event in await store.consent_log()} == {Channel.SMS}
    contact = await store.get_contact(ANA)
    assert contact is not None
    assert contact.name == "Ana Ruiz"

    on_sms = await store.record_inbound(text("SM" + "4" * 32, ANA))
    assert on_sms.conversation.id == 1  # the same thread as before the upgrade
    assert on_sms.conversation.slack_thread_ts == THREAD_1
    assert on_sms.conversation.last_inbound_at == LATER
    on_whatsapp = await store.record_inbound(text("SM" + "5" * 32, ANA, Channel.WHATSAPP))
    assert on_whatsapp.conversation.id == 3
    assert on_whatsapp.conversation.slack_thread_ts is None  # a thread of its own, to come


async def test_a_sqlite_database_of_the_previous_release_migrates(tmp_path: Path) -> None:
    path = tmp_path / "bridge.db"
    db = sqlite3.connect(path, isolation_level=None)
    db.executescript(RELEASE_DB.read_text())
    db.close()

    store = SQLiteStore(path)
    await store.open()
    try:
        await assert_kept_and_keyed_by_channel(store)
        async with store.db.execute("PRAGMA user_version") as cur:
            row = await cur.fetchone()
        assert row is not None
        assert row[0] == len(MIGRATIONS)
    finally:
        await store.close()


async def test_a_mongodb_database_of_the_previous_release_migrates() -> None:
    client = MockClient()
    db = client["sms_bridge"]
    # The documents and unique index as the previous release wrote them.
    conversation: dict[str, Any] = {
        "status": "open",
        "assignee": None,
        "flagged": False,
        "slack_channel": "C0INBOX",
        "created_at": AT,
        "last_activity_at": AT,
        "header_activity_at": None,
        "flag_reason": None,
        "seen_at": None,
    }
    await db["conversations"].insert_many(
        [
            conversation
            | {
                "_id": 1,
                "business_number": BUSINESS,
                "subscriber": ANA,
                "assignee": "U0ANA",
                "slack_thread_ts": THREAD_1,
            },
            conversation
            | {
                "_id": 2,
                "business_number": BUSINESS,
                "subscriber": BO,
                "slack_thread_ts": THREAD_2,
            },
        ]
    )
    await db["conversations"].create_index(
        [("business_number", ASCENDING), ("subscriber", ASCENDING)], unique=True
    )
    await db["messages"].insert_one(
        {
            "_id": "m1",
            "conversation_id": 1,
            "direction": "inbound",
            "body": "Do you have rye today?",
            "media": [],
            "sid": "SM" + "1" * 32,
            "created_at": AT,
            "status": "received",
        }
    )
    await db["consent_events"].insert_many(
        [
            {
                "seq": seq,
                "business_number": BUSINESS,
                "subscriber": BO,
                "kind": kind,
                "granted": False,
                "source": "keyword",
                "at": AT,
                "evidence": "STOP",
                "ref": "SM" + "3" * 32,
            }
            for seq, kind in ((1, "conversational"), (2, "marketing"))
        ]
    )
    await db["counters"].insert_one({"_id": "consent_events", "n": 2})
    await db["contacts"].insert_one({"_id": ANA, "name": "Ana Ruiz", "fields": []})

    store = MongoStore(cast("AsyncMongoClient[Any]", client), "sms_bridge")
    await store.open()
    try:
        await assert_kept_and_keyed_by_channel(store)
    finally:
        await store.close()
