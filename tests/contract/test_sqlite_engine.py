"""SQLite-only: the claim queries use their partial indexes, so a claim costs the same
with a backlog of thousands of jobs as with none."""

from __future__ import annotations

from pathlib import Path

from bridge.store.sqlite import SQLiteStore


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
