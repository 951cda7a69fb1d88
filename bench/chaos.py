"""Chaos soak: `serve` processes on one SQLite file behind HAProxy, under faults.

    .venv/bin/python bench/chaos.py [--minutes 10] [--texts 10000] [--numbers 200]
                                    [--replies 2000] [--processes 3] [--seed 1] [--keep]

Subscribers text (each one text at a time, a few dozen at once, taking turns) and
agents answer in their threads, while a controller SIGKILLs a random process (any but
the first) every 20–60 s and restarts it, Slack answers 429 and 500 storms (and
enforces its per-channel post limit, 1 a second), Twilio fails sends and holds them
past the bridge's timeout, and another writer holds the SQLite file busy for seconds
at a time. Then the faults and the traffic stop, and the queue must drain within 60 s.

Printed: acknowledged texts lost, texts posted twice (outside and inside the
documented window: a post whose echo Slack never delivered), replies sent twice,
per-conversation order violations, the drain time, and each process's RSS slope per
hour once warm (a restarted process starts again: its longest life is measured; the
first process, never killed, is measured over the whole soak).
tests/e2e/test_chaos.py runs a short plan of the same code.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import sqlite3
import sys
import tempfile
import time
from collections.abc import Awaitable
from dataclasses import dataclass, field, replace
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # run as a script: `bench` as a package, as the tests see it

from bench.cluster import (  # noqa: E402
    Cluster,
    Ledger,
    Verdict,
    drained,
    send_reply,
    send_text,
    verdict,
    waiting_texts,
)
from bench.common import loadavg, machine_facts, out, progress, read_memory  # noqa: E402
from bridge.app import TWILIO_TIMEOUT  # noqa: E402
from bridge.sandbox.slack_emulator import SlackEmulator  # noqa: E402
from bridge.sandbox.twilio_emulator import TwilioEmulator  # noqa: E402
from bridge.sandbox.wiring import INBOX  # noqa: E402

Span = tuple[float, float]  # seconds: a random value is drawn between the two
SAMPLE_SECONDS = 5.0  # how often each process's RSS is read
SECONDS_PER_HOUR = 3600.0


@dataclass(frozen=True)
class Plan:
    seconds: float = 600.0  # traffic and faults
    processes: int = 3
    numbers: int = 200
    texts: int = 10_000
    replies: int = 2_000
    active: int = 20  # subscribers texting at the same time
    kill_every: Span = (20.0, 60.0)
    # The first processes are never killed: their RSS over the whole soak is the memory
    # figure (a killed process starts again and lives minutes at most).
    spared: int = 1
    down_for: Span = (1.0, 5.0)  # a killed process is restarted after this
    fault_every: Span = (10.0, 30.0)  # Twilio's storms, and SQLite held busy
    # Slack's: a 500 leaves a post's outcome unknown, and a parent's is settled by a
    # history read, one a minute (Slack's limit): its texts wait up to that long.
    slack_storm_every: Span = (15.0, 45.0)
    fault_for: Span = (2.0, 6.0)
    busy_for: Span = (1.0, 4.0)  # SQLite held by another writer (the bridge waits 5 s)
    slack_posts_per_second: float = 1.0  # Slack's per-channel limit, enforced
    bridge_post_rate: str = "0.95"  # the channel's pace, shared by the processes
    thread_wait: float = 60.0  # an agent answers in a thread that shows within this
    drain_within: float = 60.0
    # How long a slower drain is waited for, to report it: a text not shown by then
    # counts as lost.
    drain_wait: float = 180.0
    warm_after: float = 120.0  # seconds of a process's life its RSS slope ignores
    seed: int = 1

    @classmethod
    def short(cls) -> Plan:
        """About 60 s: what tests/e2e/test_chaos.py runs."""
        return cls(
            seconds=25.0,
            numbers=20,
            texts=300,
            replies=60,
            active=6,
            kill_every=(7.0, 10.0),
            down_for=(0.5, 2.0),
            fault_every=(3.0, 6.0),
            slack_storm_every=(8.0, 12.0),
            fault_for=(1.0, 3.0),
            busy_for=(0.5, 2.0),
            slack_posts_per_second=5.0,
            bridge_post_rate="4",
            thread_wait=5.0,
            drain_within=45.0,
            drain_wait=150.0,
            warm_after=10.0,
        )

    def env(self) -> dict[str, str]:
        """What every process gets besides the cluster's own settings."""
        return {
            "BRIDGE_SLACK_POST_RATE": self.bridge_post_rate,
            "BRIDGE_SLACK_POST_BURST": "4",
            "BRIDGE_SMS_RATE": "30",  # a short code's rate: 2,000 replies in 10 minutes
            "BRIDGE_SHARED_PACING": "true",  # one budget per channel for all processes
        }


@dataclass
class Faults:
    kills: int = 0
    slack_429_storms: int = 0
    slack_500_storms: int = 0
    twilio_failures: int = 0
    twilio_timeouts: int = 0
    twilio_lost_answers: int = 0
    sqlite_busy: int = 0

    def line(self) -> str:
        return (
            f"faults: {self.kills} SIGKILLs, Slack {self.slack_429_storms} 429 storms and "
            f"{self.slack_500_storms} 500 storms, Twilio {self.twilio_failures} failure "
            f"windows, {self.twilio_timeouts} timeout windows and {self.twilio_lost_answers} "
            f"lost answers, SQLite held busy {self.sqlite_busy} times"
        )


@dataclass(frozen=True)
class Slope:
    member: str
    mb_per_hour: float
    over_seconds: float  # the warm span it was fitted on
    rss_mb: float  # at the end of that span


@dataclass
class Figures:
    verdict: Verdict
    ledger: Ledger
    faults: Faults
    drain_seconds: float | None  # None: not within plan.drain_wait
    slopes: list[Slope] = field(default_factory=list)
    slack_429s: int = 0
    posts: int = 0  # chat.postMessage calls Slack took: parents, texts, drafts

    def passed(self, plan: Plan) -> bool:
        return (
            self.verdict.exactly_once_in_order
            and self.verdict.posts_doubled_in_window <= self.faults.kills
            and self.drain_seconds is not None
            and self.drain_seconds <= plan.drain_within
        )

    def lines(self, plan: Plan) -> list[str]:
        drain = "not within bound" if self.drain_seconds is None else f"{self.drain_seconds:.1f} s"
        slopes = ", ".join(
            f"{s.member} {s.mb_per_hour:+.1f} MB/h over {s.over_seconds:.0f} s "
            f"(RSS {s.rss_mb:.0f} MB)"
            for s in self.slopes
        )
        return [
            f"acknowledged: {self.ledger.acknowledged_texts} texts "
            f"({self.ledger.texts_refused} never answered 200 after retries), "
            f"{self.ledger.acknowledged_replies} agent replies "
            f"({self.ledger.replies_refused} Slack gave up on, "
            f"{self.ledger.replies_unthreaded} not written: no thread within "
            f"{plan.thread_wait:.0f} s)",
            self.faults.line(),
            f"Slack 429s answered: {self.slack_429s}; posts taken: {self.posts} "
            f"({self.ledger.acknowledged_texts / max(self.posts, 1):.1f} texts a post)",
            *self.verdict.lines(),
            f"queue drained after faults stopped: {drain} (bound {plan.drain_within:.0f} s)",
            f"RSS slope once warm (after {plan.warm_after:.0f} s of a life): {slopes or 'n/a'}",
            f"passed: {self.passed(plan)}",
        ]


# --- traffic ---------------------------------------------------------------------------------


async def traffic(cluster: Cluster, ledger: Ledger, plan: Plan, started: float) -> None:
    """Each subscriber's texts and the agents' replies in its thread, spread over the
    subscriber's turn; turns overlap so that `plan.active` subscribers text at once."""
    per_text = plan.texts // plan.numbers
    per_reply = plan.replies // plan.numbers
    turn = plan.seconds * plan.active / plan.numbers
    gap = (plan.seconds - turn) / max(1, plan.numbers - 1)

    async def at(offset: float) -> None:
        await asyncio.sleep(max(0.0, started + offset - time.monotonic()))

    async def texts(index: int) -> None:
        for sequence in range(per_text):
            await at(index * gap + turn * sequence / per_text)
            await send_text(cluster, ledger, index, sequence)

    async def replies(index: int) -> None:
        for sequence in range(per_reply):
            await at(index * gap + turn * (sequence + 0.5) / per_reply)
            # An agent answers in a thread they see; not one a kill is still holding up.
            await send_reply(cluster, ledger, index, sequence, within=plan.thread_wait)

    await asyncio.gather(
        *(texts(i) for i in range(plan.numbers)), *(replies(i) for i in range(plan.numbers))
    )


# --- faults ----------------------------------------------------------------------------------


async def _every(stop: asyncio.Event, span: Span, rng: random.Random) -> bool:
    """Wait a random time in `span`; False once `stop` is set."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), rng.uniform(*span))
    return not stop.is_set()


async def killer(cluster: Cluster, plan: Plan, faults: Faults, stop: asyncio.Event) -> None:
    rng = random.Random(plan.seed)
    while await _every(stop, plan.kill_every, rng):
        index = rng.randrange(plan.spared, len(cluster.members))
        progress(f"SIGKILL {cluster.members[index].name}")
        await cluster.kill(index)
        faults.kills += 1
        await asyncio.sleep(rng.uniform(*plan.down_for))
        await cluster.restart(index)


async def slack_storms(
    slack: SlackEmulator, plan: Plan, faults: Faults, stop: asyncio.Event
) -> None:
    rng = random.Random(plan.seed + 1)
    while await _every(stop, plan.slack_storm_every, rng):
        seconds = rng.uniform(*plan.fault_for)
        if rng.random() < 0.5:
            slack.fail_for("chat.postMessage", seconds, 429, retry_after=rng.randint(1, 3))
            faults.slack_429_storms += 1
        else:
            slack.fail_for("chat.postMessage", seconds, 500)
            faults.slack_500_storms += 1


async def twilio_storms(
    twilio: TwilioEmulator, plan: Plan, faults: Faults, stop: asyncio.Event
) -> None:
    rng = random.Random(plan.seed + 2)
    while await _every(stop, plan.fault_every, rng):
        kind = rng.randrange(3)
        if kind == 0:
            twilio.fail_for(rng.uniform(*plan.fault_for), 500, endpoint="messages.create")
            faults.twilio_failures += 1
        elif kind == 1:  # every answer comes after the bridge stopped waiting for it
            twilio.delay_seconds = TWILIO_TIMEOUT + 1
            faults.twilio_timeouts += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), rng.uniform(*plan.fault_for))
            twilio.delay_seconds = 0.0
        else:  # sends that go through but answer 500
            twilio.lose_answers += 2
            faults.twilio_lost_answers += 2


async def sqlite_writer(db: Path, plan: Plan, faults: Faults, stop: asyncio.Event) -> None:
    rng = random.Random(plan.seed + 3)
    while await _every(stop, plan.fault_every, rng):
        await asyncio.to_thread(_hold_busy, db, rng.uniform(*plan.busy_for))
        faults.sqlite_busy += 1


def _hold_busy(db: Path, seconds: float) -> None:
    """Another writer takes the file's write lock and holds it (then writes nothing)."""
    connection = sqlite3.connect(db, timeout=10, isolation_level=None)
    try:
        connection.execute("BEGIN IMMEDIATE")
        time.sleep(seconds)
        connection.execute("ROLLBACK")
    except sqlite3.OperationalError:
        pass  # the bridge held it the whole time: no fault this round
    finally:
        connection.close()


def calm(slack: SlackEmulator, twilio: TwilioEmulator) -> None:
    slack.clear_failures()
    twilio.clear_failures()
    twilio.delay_seconds = 0.0
    twilio.lose_answers = 0


# --- memory ------------------------------------------------------------------------------------


class RssLog:
    """VmRSS of each process's every life: (member, pid) → [(seconds, MB)]."""

    def __init__(self) -> None:
        self.samples: dict[tuple[str, int], list[tuple[float, float]]] = {}

    async def run(self, cluster: Cluster, stop: asyncio.Event) -> None:
        while not stop.is_set():
            for member in cluster.members:
                pid = member.pid
                memory = read_memory(pid) if pid is not None else None
                # No VmRSS (0): killed, not yet reaped.
                if pid is not None and memory is not None and memory.rss_mb > 0:
                    life = self.samples.setdefault((member.name, pid), [])
                    life.append((time.monotonic(), memory.rss_mb))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), SAMPLE_SECONDS)

    def slopes(self, warm_after: float) -> list[Slope]:
        """Per member, the least-squares slope of its longest warm life (3+ samples)."""
        best: dict[str, Slope] = {}
        for (member, _pid), life in self.samples.items():
            warm = [(t, rss) for t, rss in life if t - life[0][0] >= warm_after]
            if len(warm) < 3:
                continue
            span = warm[-1][0] - warm[0][0]
            if member not in best or span > best[member].over_seconds:
                slope = _slope(warm) * SECONDS_PER_HOUR
                best[member] = Slope(member, slope, span, warm[-1][1])
        return [best[name] for name in sorted(best)]


def _slope(points: list[tuple[float, float]]) -> float:
    mean_t = sum(t for t, _ in points) / len(points)
    mean_y = sum(y for _, y in points) / len(points)
    spread = sum((t - mean_t) ** 2 for t, _ in points)
    return sum((t - mean_t) * (y - mean_y) for t, y in points) / spread if spread else 0.0


# --- the soak ----------------------------------------------------------------------------------


async def soak(plan: Plan, workdir: Path, slack: SlackEmulator, twilio: TwilioEmulator) -> Figures:
    """Run the plan against started emulators; processes and HAProxy live in `workdir`."""
    slack.rate_limit("chat.postMessage", plan.slack_posts_per_second, per_channel=True)
    ledger, faults, rss = Ledger(), Faults(), RssLog()
    async with Cluster(slack, twilio, workdir, plan.processes, plan.env()) as cluster:
        stop, sampling = asyncio.Event(), asyncio.Event()
        sampler = asyncio.create_task(rss.run(cluster, sampling))
        storms: list[Awaitable[None]] = [
            killer(cluster, plan, faults, stop),
            slack_storms(slack, plan, faults, stop),
            twilio_storms(twilio, plan, faults, stop),
            sqlite_writer(cluster.db, plan, faults, stop),
        ]
        running = asyncio.gather(*storms)
        progress(f"traffic and faults for {plan.seconds:.0f} s")
        await traffic(cluster, ledger, plan, time.monotonic())
        stop.set()
        await running  # each finishes what it was doing: a restart, a held lock
        calm(slack, twilio)
        progress("faults stopped: draining")
        drain = await drained(cluster, ledger, within=plan.drain_wait)
        sampling.set()
        await sampler
        judged = verdict(ledger, slack, twilio, waiting=waiting_texts(cluster.db))
        figures = Figures(judged, ledger, faults, drain)
    figures.slopes = rss.slopes(plan.warm_after)
    posts = slack.calls_to("chat.postMessage")
    figures.slack_429s = sum(1 for c in posts if c.status == 429)
    figures.posts = sum(1 for c in posts if c.status == 200)
    return figures


async def main(plan: Plan, *, keep: bool = False) -> bool:
    slack = SlackEmulator()
    slack.add_channel(INBOX, "sms-inbox")
    twilio = TwilioEmulator()
    await slack.start()
    await twilio.start()
    before = loadavg()
    try:
        folder = (
            contextlib.nullcontext(tempfile.mkdtemp(prefix="bench-chaos-"))
            if keep
            else tempfile.TemporaryDirectory(prefix="bench-chaos-")
        )
        with folder as workdir:
            if keep:  # to read what a failed invariant leaves: logs and the SQLite file
                progress(f"the soak's folder is kept: {workdir}")
            figures = await soak(plan, Path(workdir), slack, twilio)
    finally:
        await twilio.stop()
        await slack.stop()
    out(f"plan: {plan}")
    out(f"machine: {machine_facts()}; load average before {before}, after {loadavg()}")
    for line in figures.lines(plan):
        out(line)
    return figures.passed(plan)


def _options(argv: list[str]) -> tuple[Plan, bool]:
    """The plan, and whether to keep the soak's folder."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--texts", type=int, default=10_000)
    parser.add_argument("--numbers", type=int, default=200)
    parser.add_argument("--replies", type=int, default=2_000)
    parser.add_argument("--processes", type=int, default=3)
    parser.add_argument("--active", type=int, default=20, help="subscribers texting at once")
    parser.add_argument(
        "--post-rate",
        type=float,
        default=0.95,
        help="BRIDGE_SLACK_POST_RATE, the channel's pace shared by the processes",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--short", action="store_true", help="the test suite's 60 s plan")
    parser.add_argument(
        "--keep", action="store_true", help="keep the soak's folder (logs, SQLite file)"
    )
    args = parser.parse_args(argv)
    if args.short:
        return replace(Plan.short(), seed=args.seed), args.keep
    if (
        not (1 <= args.active <= args.numbers <= args.texts)
        or min(args.minutes, args.post_rate) <= 0
        or args.processes < 2
    ):
        parser.error(
            "need 1 <= --active <= --numbers <= --texts, --minutes and --post-rate > 0, "
            "--processes >= 2 (the first is never killed)"
        )
    return Plan(
        seconds=args.minutes * 60,
        processes=args.processes,
        numbers=args.numbers,
        texts=args.texts,
        replies=args.replies,
        active=args.active,
        bridge_post_rate=str(args.post_rate),
        seed=args.seed,
    ), args.keep


if __name__ == "__main__":
    plan, keep = _options(sys.argv[1:])
    sys.exit(0 if asyncio.run(main(plan, keep=keep)) else 1)
