"""SQLite-only: the claim queries use their partial indexes, so a claim costs the same
with a backlog of thousands of jobs as with none; older databases are migrated."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bridge.models import DraftState, MessageDraft
from bridge.store.sqlite import MIGRATIONS, SQLiteStore


async def test_claims_walk_the_partial_indexes(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "plan.db")
    await store.open()
    try:
        plans = []
        for sql in (
            "SELECT * FROM jobs INDEXED BY jobs_leases WHERE state = 'running'"
            " AND lease_until <= 0 ORDER BY seq LIMIT 8",
            "SELECT * FROM jobs j INDEXED BY jobs_pending WHERE j.state = 'pending'"
            " AND j.run_at <= 0 ORDER BY j.seq LIMIT 8",
        ):
            async with store.db.execute(f"EXPLAIN QUERY PLAN {sql}") as cur:
                plans.append(" ".join(str(row[3]) for row in await cur.fetchall()))
    finally:
        await store.close()
    assert "jobs_leases" in plans[0]
    assert "jobs_pending" in plans[1]
    assert "TEMP B-TREE" not in plans[1]  # walked in order, no sort of the backlog


async def test_a_database_of_an_earlier_version_is_migrated_and_keeps_its_data(
    tmp_path: Path,
) -> None:
    path = tmp_path / "bridge.db"
    db = sqlite3.connect(path, isolation_level=None)
    db.executescript(f"BEGIN; {MIGRATIONS[0]}; PRAGMA user_version = 1; COMMIT;")
    db.execute(  # a text stored by the first release
        "INSERT INTO conversations (id, business_number, subscriber, created_at,"
        " last_activity_at) VALUES (1, '+14155550100', '+14155550123', 0, 0)"
    )
    db.execute(
        "INSERT INTO messages (id, conversation_id, direction, body, created_at)"
        " VALUES ('m1', 1, 'inbound', 'hello', 0)"
    )
    db.execute(  # a reply whose send attempt was cut short by the upgrade
        "INSERT INTO messages (id, conversation_id, direction, body, created_at, status)"
        " VALUES ('m2', 1, 'outbound', 'ok', 60, 'sending')"
    )
    db.close()

    store = SQLiteStore(path)
    await store.open()
    try:
        message, _reply = await store.recent_messages(1, limit=5)
        assert (message.body, message.draft, message.intent) == ("hello", None, None)
        draft = MessageDraft(
            reply="Hi!", confidence=1, escalate=False, engine="offline", state=DraftState.PROPOSED
        )
        saved = await store.save_draft("m1", draft, intent="other", urgency="low")
        assert saved is not None
        assert saved.draft == draft
        assert await store.add_usage("ai_tokens:2026-11-27", 5) == 5
        attempt = await store.begin_send("m2")
        assert attempt is not None
        assert attempt.resumed
        assert attempt.began_at == attempt.message.created_at  # the bound it had then
        async with store.db.execute("PRAGMA user_version") as cur:
            row = await cur.fetchone()
        assert row is not None
        assert row[0] == len(MIGRATIONS)
    finally:
        await store.close()
