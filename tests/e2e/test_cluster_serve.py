"""Two and three `serve` processes on one SQLite file behind HAProxy: texts and agent
replies each arrive once, in order, whichever process takes them, a SIGKILL included."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import pytest

from bench.cluster import Cluster, Ledger, drained, send_reply, send_text, verdict
from bridge.sandbox.slack_emulator import SlackEmulator
from bridge.sandbox.twilio_emulator import TwilioEmulator

pytestmark = pytest.mark.e2e

MakeCluster = Callable[[int], AbstractAsyncContextManager[Cluster]]


@pytest.fixture
def cluster(slack: SlackEmulator, twilio: TwilioEmulator, tmp_path: Path) -> MakeCluster:
    @asynccontextmanager
    async def make(size: int) -> AsyncIterator[Cluster]:
        async with Cluster(slack, twilio, tmp_path, size) as running:
            yield running

    return make


async def conversation(running: Cluster, ledger: Ledger, index: int, texts: int) -> None:
    """A subscriber texts; after each of their first texts an agent answers in the thread."""
    for sequence in range(texts):
        assert await send_text(running, ledger, index, sequence)
        if sequence % 2 == 0:
            assert await send_reply(running, ledger, index, sequence // 2)


@pytest.mark.parametrize("size", [2, 3])
async def test_texts_and_replies_arrive_once_in_order_behind_haproxy(
    cluster: MakeCluster, slack: SlackEmulator, twilio: TwilioEmulator, size: int
) -> None:
    ledger = Ledger()
    async with cluster(size) as running:
        await asyncio.gather(*(conversation(running, ledger, i, texts=6) for i in range(6)))
        assert await drained(running, ledger, within=60) is not None
        outcome = verdict(ledger, slack, twilio)
    print("\n".join(outcome.lines()))
    assert (ledger.acknowledged_texts, ledger.acknowledged_replies) == (36, 18)
    assert outcome.exactly_once_in_order, outcome
    assert outcome.texts_doubled_in_window == 0  # Slack delivered every echo


async def test_a_sigkill_in_a_burst_loses_no_acknowledged_text(
    cluster: MakeCluster, slack: SlackEmulator, twilio: TwilioEmulator
) -> None:
    """Seven subscribers text at once; one of three processes is killed in the middle
    and restarted. Nothing acknowledged is lost; a post whose echo Slack never delivered
    (the documented window) may show twice, at most one per kill."""
    ledger = Ledger()
    async with cluster(3) as running:
        burst = [asyncio.create_task(texts_of(running, ledger, i)) for i in range(7)]
        await asyncio.sleep(0.5)
        await running.kill(1)
        await asyncio.gather(*burst)
        await running.restart(1)
        await asyncio.gather(*(send_text(running, ledger, i, 10) for i in range(7)))
        # A post whose answer the kill cut off waits for Slack's echo (15 s) first.
        assert await drained(running, ledger, within=90) is not None
        outcome = verdict(ledger, slack, twilio)
    print("\n".join(outcome.lines()), f"\nkills: {len(running.kills)}")
    assert ledger.acknowledged_texts > 0
    assert outcome.texts_lost == 0
    assert outcome.texts_doubled == 0
    assert outcome.posts_doubled_in_window <= len(running.kills)
    assert outcome.text_order_violations == 0
    assert outcome.threads_split == 0


async def texts_of(running: Cluster, ledger: Ledger, index: int) -> None:
    for sequence in range(10):
        await send_text(running, ledger, index, sequence)
