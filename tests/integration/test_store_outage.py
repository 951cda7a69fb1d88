"""A store that stops taking writes (a full disk, a read-only volume): the bridge says
so — not ready, 503 with Retry-After to Twilio — and recovers by itself once writes
work again."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest

from bridge.sandbox.slack_emulator import SlackEmulator
from bridge.store.sqlite import SQLiteStore
from tests.support import BridgeUnderTest, eventually, thread_texts

ANA = "+14155550123"


@pytest.fixture
def bridge_store(db_path: Path) -> SQLiteStore:
    return SQLiteStore(db_path, probe_seconds=0.1)


async def readiness(bridge: BridgeUnderTest) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.get(f"{bridge.url}/readyz") as answer:
        return answer.status, await answer.text()


async def test_a_store_refusing_writes_answers_503_until_it_recovers_by_itself(
    bridge: BridgeUnderTest, slack: SlackEmulator, bridge_store: SQLiteStore
) -> None:
    assert (await bridge.text(ANA, "hello")).status == 200
    await eventually(lambda: thread_texts(slack, "415-555-0123") == ["hello"])

    await bridge_store.db.execute("PRAGMA query_only = 1")  # as a read-only volume would
    # The outbox's next look for work is a write: the store learns it refuses them.
    await eventually(lambda: bridge_store.refusing is not None)
    status, body = await readiness(bridge)
    assert status == 503
    assert "read-only" in body
    refused = await bridge.text(ANA, "are you there?", sid="SM" + "1" * 32)
    assert refused.status == 503
    assert refused.retry_after is not None
    assert refused.text == "store unavailable: read-only"

    await bridge_store.db.execute("PRAGMA query_only = 0")  # writable again
    await eventually(lambda: bridge_store.refusing is None)
    assert (await readiness(bridge))[0] == 200
    # Twilio's retry of the refused webhook.
    assert (await bridge.text(ANA, "are you there?", sid="SM" + "1" * 32)).status == 200
    await eventually(lambda: thread_texts(slack, "415-555-0123") == ["hello", "are you there?"])


def _damage(path: Path) -> None:
    """Overwrite every page after the first with noise, as a failing disk might."""
    size = path.stat().st_size
    with path.open("r+b") as file:
        file.seek(4096)
        file.write(bytes((n * 151 + 7) % 256 for n in range(size - 4096)))


async def test_a_damaged_file_answers_503_and_is_not_ready(
    bridge: BridgeUnderTest, slack: SlackEmulator, bridge_store: SQLiteStore, db_path: Path
) -> None:
    assert (await bridge.text(ANA, "hello")).status == 200
    await eventually(lambda: thread_texts(slack, "415-555-0123") == ["hello"])

    await bridge_store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # all of it in the file
    await asyncio.to_thread(_damage, db_path)
    await bridge_store.db.execute("PRAGMA shrink_memory")  # what it read must be read again

    refused = await bridge.text(ANA, "are you there?", sid="SM" + "2" * 32)
    assert refused.status == 503
    assert refused.retry_after is not None
    assert refused.text == "store unavailable: damaged file"
    status, body = await readiness(bridge)
    assert status == 503
    assert "damaged file" in body
