"""Several processes, one store: Slack's pace for a channel is one budget for all of
them (shared pacing), and `serve --processes N` runs N workers on one port, starting
again the one that dies."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import socket
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import aiohttp
import pytest

from bridge.sandbox.slack_emulator import SlackEmulator
from bridge.sandbox.twilio_emulator import TwilioEmulator
from tests.e2e.cli_run import minimal_env, run
from tests.e2e.conftest import ServeProcess, client
from tests.support import eventually, eventually_async, parents, shown_in

pytestmark = pytest.mark.e2e

# Under Slack's one post a second per channel, with room (0.67 s) for a busy machine to
# send one post late and the next on time.
PACE = {"BRIDGE_SLACK_POST_RATE": "0.6", "BRIDGE_SLACK_POST_BURST": "1"}
PID = re.compile(r'^bridge_process\{pid="(\d+)"\}', re.MULTILINE)


def shown(slack: SlackEmulator, prefix: str) -> Counter[str]:
    """The texts starting with `prefix` that Slack shows, and how often."""
    return Counter(
        text
        for parent in parents(slack)
        for text in shown_in(slack, parent)
        if text.startswith(prefix)
    )


def in_order(slack: SlackEmulator, numbers: list[str], texts: int, prefix: str) -> bool:
    """Each number's texts, all of them, in the order sent, in its one thread."""
    threads = {}
    for parent in parents(slack):
        for number in numbers:
            if number[-4:] in parent.text:
                threads[number] = [t for t in shown_in(slack, parent) if t.startswith(prefix)]
    return threads == {
        number: [f"{prefix}{number[-4:]}.{n}" for n in range(texts)] for number in numbers
    }


async def test_the_channel_pace_holds_across_processes(
    serve: Callable[..., ServeProcess], slack: SlackEmulator, twilio: TwilioEmulator
) -> None:
    """Slack's real limit (one post a second in a channel: the emulator refuses the
    next with a 429) and two processes taking the texts of four numbers in turn,
    every post into the one inbox channel: not one post is refused."""
    slack.rate_limit("chat.postMessage", 1, per_channel=True)
    processes = [serve(BRIDGE_SHARED_PACING="true", **PACE) for _ in range(2)]
    await asyncio.gather(*(p.start() for p in processes))
    bridges = [client(p, twilio) for p in processes]
    numbers = [f"+1415555{3000 + n:04d}" for n in range(4)]

    async def texts_of(first: int, number: str) -> None:
        # Half the numbers start in each process: both have conversations to post.
        for n in range(4):
            answer = await bridges[(first + n) % 2].text(number, f"paced {number[-4:]}.{n}")
            assert answer.status == 200
            await asyncio.sleep(0.3)  # a conversation's texts a little apart, not one burst

    await asyncio.gather(*(texts_of(first, number) for first, number in enumerate(numbers)))
    await eventually(lambda: in_order(slack, numbers, 4, "paced "), within=90)
    assert len(parents(slack)) == len(numbers)
    assert slack.rate_limited == 0  # not one post over the channel's pace
    assert all(count == 1 for count in shown(slack, "paced ").values())


async def _pids(url: str) -> set[str]:
    """The pid of the worker that answered a scrape on a new connection."""
    async with (
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as http,
        http.get(f"{url}/metrics") as response,
    ):
        return set(PID.findall(await response.text()))


async def _workers(url: str, count: int, *, without: frozenset[str] = frozenset()) -> set[str]:
    """The pids of `count` workers answering on the one port (new ones: not `without`)."""
    seen: set[str] = set()

    async def all_answered() -> bool:
        with contextlib.suppress(aiohttp.ClientError):  # it reached a worker as it died
            seen.update(await _pids(url))
        return len(seen - without) >= count

    await eventually_async(all_answered, within=90)
    return seen - without


async def test_processes_on_one_port_a_dead_worker_starts_again(
    serve: Callable[..., ServeProcess], slack: SlackEmulator, twilio: TwilioEmulator
) -> None:
    supervisor = serve("serve", "--processes", "2", BRIDGE_SLACK_POST_RATE="40")
    await supervisor.start()
    workers = await _workers(supervisor.url, 2)
    bridge = client(supervisor, twilio)
    numbers = [f"+1415555{4000 + n:04d}" for n in range(3)]

    async def send(number: str, n: int) -> None:
        sid = f"SM{number[-4:]}{n:028d}"
        for _ in range(20):  # as Twilio does, again after a refused or cut connection
            try:
                if (await bridge.text(number, f"kept {number[-4:]}.{n}", sid=sid)).status == 200:
                    return
            except (aiohttp.ClientError, TimeoutError):
                pass
            await asyncio.sleep(0.5)
        raise AssertionError(f"text {n} of {number} was never acknowledged")

    async def texts_of(number: str) -> None:
        for n in range(6):
            await send(number, n)
            await asyncio.sleep(0.1)

    sending = asyncio.gather(*(texts_of(number) for number in numbers))
    await asyncio.sleep(0.3)
    killed = sorted(workers)[0]
    os.kill(int(killed), signal.SIGKILL)
    await sending
    # The supervisor says which worker ended and how, and starts another in its place.
    await eventually(lambda: "killed by SIGKILL" in supervisor.log.read_text(), within=30)
    restarted = await _workers(supervisor.url, 1, without=frozenset(workers))
    assert killed not in restarted
    await eventually(lambda: in_order(slack, numbers, 6, "kept "), within=90)
    assert all(count == 1 for count in shown(slack, "kept ").values())
    assert len(parents(slack)) == len(numbers)

    await supervisor.kill(signal.SIGTERM)  # bounded: the fixture's STOP_SECONDS
    assert supervisor.proc is not None
    assert supervisor.proc.returncode == 0
    for pid in (workers - {killed}) | restarted:
        with pytest.raises(ProcessLookupError):
            os.kill(int(pid), 0)


def test_a_bad_process_count_or_a_taken_port_is_refused_in_one_line(tmp_path: Path) -> None:
    env = minimal_env(tmp_path)
    for count in ("0", "65", "two"):
        refused = run(["serve", "--processes", count], env, tmp_path)
        assert refused.returncode == 2
        assert refused.stderr.count("\n") == 1
        assert refused.stderr.startswith("sms-bridge: Invalid value for '--processes'")
    with socket.socket() as taken:  # another program's port, not shared
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        refused = run(["serve", "--processes", "2"], env | {"PORT": port}, tmp_path)
    assert refused.returncode == 2
    assert refused.stderr.startswith(f"sms-bridge: PORT: cannot listen on 127.0.0.1:{port}")
    assert refused.stderr.count("\n") == 1
