"""The inbound acceptance checks, against `sms-bridge serve` as a process."""

from __future__ import annotations

import asyncio
import signal
from collections import Counter
from collections.abc import Callable

import aiohttp
import pytest

from bridge.sandbox.slack_emulator import SlackEmulator
from bridge.sandbox.twilio_emulator import TwilioEmulator
from tests.e2e.conftest import ServeProcess, client
from tests.support import BridgeUnderTest, eventually, parents, shown_in, thread_texts

pytestmark = pytest.mark.e2e

ANA, BEN = "+14155550123", "+14155550124"


async def test_threads_survive_a_restart(
    serve: Callable[..., ServeProcess], slack: SlackEmulator, twilio: TwilioEmulator
) -> None:
    first = serve()
    await first.start()
    bridge = client(first, twilio)
    assert (await bridge.text(ANA, "hello")).status == 200
    assert (await bridge.text(BEN, "hi from ben")).status == 200
    await eventually(lambda: len(parents(slack)) == 2)
    await first.kill(signal.SIGTERM)

    second = serve()
    await second.start()
    assert (await client(second, twilio).text(ANA, "days later")).status == 200
    await eventually(lambda: thread_texts(slack, "415-555-0123") == ["hello", "days later"])
    assert len(parents(slack)) == 2
    assert thread_texts(slack, "415-555-0124") == ["hi from ben"]


async def test_order_duplicates_escaping_and_signatures(
    serve: Callable[..., ServeProcess], slack: SlackEmulator, twilio: TwilioEmulator
) -> None:
    process = serve()
    await process.start()
    bridge = client(process, twilio)

    async with aiohttp.ClientSession() as http:
        form = {"MessageSid": "SM" + "f" * 32, "From": BEN, "To": "+14155550100", "Body": "x"}
        async with http.post(f"{process.url}/sms/inbound", data=form) as r:
            assert r.status == 403
        async with http.post(
            f"{process.url}/sms/inbound", data=form, headers={"X-Twilio-Signature": "bad"}
        ) as r:
            assert r.status == 403

    for n in range(20):
        assert (await bridge.text(ANA, f"message {n:02d}")).status == 200
    sid = "SM" + "e" * 32
    assert (await bridge.text(ANA, "said twice", sid=sid)).status == 200
    assert (await bridge.text(ANA, "said twice", sid=sid)).status == 200
    assert (await bridge.text(ANA, "<!channel> <@U1> <https://x|y>")).status == 200

    expected = [f"message {n:02d}" for n in range(20)] + [
        "said twice",
        "&lt;!channel&gt; &lt;@U1&gt; &lt;https://x|y&gt;",
    ]
    await eventually(lambda: len(thread_texts(slack, "415-555-0123")) >= len(expected))
    await asyncio.sleep(0.3)  # room for a wrongly doubled post to show up
    assert thread_texts(slack, "415-555-0123") == expected
    assert len(parents(slack)) == 1  # the forged requests from Ben made no thread


async def test_sigkill_mid_burst_loses_and_doubles_nothing(
    serve: Callable[..., ServeProcess], slack: SlackEmulator, twilio: TwilioEmulator
) -> None:
    """Two processes are killed in the middle of bursts; the third finishes. Every
    acknowledged text shows once, in its number's one thread."""
    acknowledged: set[str] = set()
    for run in range(3):
        # Slack posts trickle at 40/s, so a kill finds texts posted, in flight and queued.
        process = serve(BRIDGE_SLACK_POST_RATE="40", BRIDGE_SLACK_POST_BURST="1")
        await process.start()
        bridge = client(process, twilio)

        async def send(n: int, run: int = run, bridge: BridgeUnderTest = bridge) -> tuple[str, int]:
            body = f"burst {run}.{n:02d}"
            await asyncio.sleep(n * 0.01)  # a burst over 0.5 s; a kill lands in its middle
            try:
                return body, (await bridge.text(f"+1415555{1000 + n % 7:04d}", body)).status
            except (aiohttp.ClientError, TimeoutError):
                return body, 0

        sends = [asyncio.create_task(send(n)) for n in range(50)]
        if run < 2:
            await asyncio.sleep(0.25)
            await process.kill(signal.SIGKILL)
        results = await asyncio.gather(*sends)
        acknowledged |= {body for body, status in results if status == 200}
    assert acknowledged, "no text was acknowledged"

    def posted() -> Counter[str]:  # a restarted process finds a backlog: bursts may ride
        # The texts only: two drafts may say the same (a hand-off's reason).
        return Counter(
            text
            for parent in parents(slack)
            for text in shown_in(slack, parent)
            if text.startswith("burst ")
        )

    await eventually(lambda: acknowledged <= set(posted()), within=60)
    # A post whose answer the kill cut off waits for Slack's echo (15 s here) and its
    # retries: on a busy machine the queue drains later than idle()'s usual 30 s.
    await bridge.idle(within=120)
    counts = posted()
    assert all(counts[body] == 1 for body in acknowledged), counts
    assert all(count == 1 for count in counts.values()), counts  # nothing doubled at all
    assert len(parents(slack)) == 7  # one thread per number, even across the crashes


async def test_two_processes_on_one_sqlite_file_post_each_text_once_in_order(
    serve: Callable[..., ServeProcess], slack: SlackEmulator, twilio: TwilioEmulator
) -> None:
    """Two `serve` processes start together on one new SQLite file (as behind a load
    balancer); each number's texts alternate between them. Each text shows once, in
    its number's one thread, in the order it was sent."""
    processes = [serve(BRIDGE_SLACK_POST_RATE="40", BRIDGE_SLACK_POST_BURST="1") for _ in range(2)]
    await asyncio.gather(*(p.start() for p in processes))
    bridges = [client(p, twilio) for p in processes]
    numbers = [f"+1415555{2000 + n:04d}" for n in range(4)]

    async def texts_of(number: str) -> None:
        for n in range(6):
            answer = await bridges[n % 2].text(number, f"{number[-4:]} text {n}")
            assert answer.status == 200

    await asyncio.gather(*(texts_of(number) for number in numbers))
    expected = {number[-4:]: [f"{number[-4:]} text {n}" for n in range(6)] for number in numbers}

    def shown() -> dict[str, list[str]]:
        return {
            digits: [t for t in shown_in(slack, parent) if t.startswith(digits)]
            for parent in parents(slack)
            for digits in expected
            if digits in parent.text
        }

    await eventually(lambda: shown() == expected, within=60)
    assert len(parents(slack)) == len(numbers)  # one thread per number
