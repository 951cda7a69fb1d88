"""Outbound benchmark: agents' thread replies in Slack → SMS through Twilio, against the
real `sms-bridge serve` process.

    .venv/bin/python bench/outbound.py [--quick] [--wait-quiet SECONDS]

The Slack and Twilio emulators (bridge/sandbox/) run in this process, next to the load
generator; the bridge runs as its own process with SQLite in a temporary directory. The
set-up is the one of tests/e2e: the agent is a user of the workspace and a member of the
inbox channel, each conversation is opened by the subscriber texting first (its parent
card and first text in Slack), and each reply is a signed Events API request to
/slack/events for a message the agent posted in the thread. The Twilio emulator's list
of sent messages is watched as it is appended, so a reply's "send" is the moment Twilio
accepted the create call. Each phase gets fresh emulators, a fresh bridge and database.
Every loop is bounded in count and time, and everything talks to 127.0.0.1.

Figures:
- latency, Slack event sent → Twilio send, replies spread over many conversations and
  arriving at random (Poisson) at a modest rate, with BRIDGE_SMS_RATE high enough that
  pacing does not add to it: with the undo window at 0 (what the bridge adds), and with
  1 s and 5 s windows minus the window (what the bridge adds beyond a real window);
- sends per second while a backlog of replies drains, against BRIDGE_SMS_RATE (all the
  conversations share one business number, so one sender and one pacing bucket), and
  how long a subscriber's text takes to reach Slack meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from common import (
    ChildServer,
    CpuMeter,
    Latencies,
    MemorySampler,
    Prepared,
    TagClock,
    Throughput,
    bench_parser,
    closed_loop,
    loadavg,
    machine_facts,
    ms,
    new_session,
    open_loop,
    out,
    percentile,
    poisson_offsets,
    progress,
    settle,
    start_bridge,
    wait_until,
)

import bridge as bridge_package
from bridge.sandbox.recorder import RecordedCall
from bridge.sandbox.slack_emulator import SlackEmulator
from bridge.sandbox.twilio_emulator import SentMessage, TwilioEmulator
from bridge.sandbox.wiring import BUSINESS, INBOX, PUBLIC_URL, emulator_env

AGENT = "U0ANA"
REPLY = "bench-{tag} Thanks for asking! Yes, we are open on Saturday from 9 to 5."
PROBE = "bench-{tag} Are you still there?"
TAG = re.compile(r"bench-(\d+)")
# As tests/support.py bridge_env(): Slack posts are not the subject here.
FAST_SLACK = {"BRIDGE_SLACK_POST_RATE": "200", "BRIDGE_SLACK_POST_BURST": "50"}
LATENCY_SMS_RATE = 100.0  # far above the offered rates: pacing adds nothing to latency
BACKLOG_UNDO = 5.0  # the default window: every reply of a backlog is queued before any is due
POST_CONCURRENCY = 16  # connections queueing a backlog's events

# The targets.
TARGET_ADDED_P99 = 0.050  # seconds the bridge adds beyond the undo window, p99
TARGET_SHARE = 0.95  # of the configured sender rate, under a backlog


@dataclass(frozen=True)
class LatencyPlan:
    label: str
    undo_seconds: float
    conversations: int
    replies: int  # round-robin over the conversations
    rate: float  # replies a second, Poisson arrivals

    @property
    def offsets(self) -> list[float]:
        return poisson_offsets(self.replies, self.rate)


@dataclass(frozen=True)
class BacklogPlan:
    sms_rate: float
    conversations: int
    replies: int
    probes: int  # texts from other subscribers while the backlog drains

    @property
    def drain_seconds(self) -> float:
        return self.replies / self.sms_rate


@dataclass(frozen=True)
class Plan:
    latency: tuple[LatencyPlan, ...]
    backlog: tuple[BacklogPlan, ...]

    @classmethod
    def full(cls) -> Plan:
        return cls(
            latency=(
                LatencyPlan("undo 0 s", 0, 50, 300, 10),
                LatencyPlan("undo 1 s", 1, 50, 200, 10),
                LatencyPlan("undo 5 s (default), quiet inbox", 5, 50, 60, 1),
            ),
            backlog=(
                BacklogPlan(5, 20, 200, 4),
                BacklogPlan(20, 20, 400, 4),
                BacklogPlan(100, 20, 1000, 4),
            ),
        )

    @classmethod
    def quick(cls) -> Plan:
        return cls(
            latency=(
                LatencyPlan("undo 0 s", 0, 20, 60, 10),
                LatencyPlan("undo 1 s", 1, 20, 60, 10),
            ),
            backlog=(BacklogPlan(5, 20, 50, 2), BacklogPlan(20, 20, 100, 2)),
        )


# --- the sandbox: emulators, conversations, signed events ---------------------------------------


def _tag(text: str) -> int | None:
    found = TAG.search(text)
    return int(found.group(1)) if found else None


def _sent_tag(message: SentMessage) -> int | None:
    return _tag(message.body)


def _posted_tag(call: RecordedCall) -> int | None:
    """A subscriber's text as the bridge posted it into its thread."""
    if call.method != "chat.postMessage" or call.failed:
        return None
    return _tag(str(call.args.get("text", "")))


@dataclass(frozen=True)
class Probe:
    seconds: float | None  # text sent → visible in Slack; None: not within the wait
    unsent: int  # replies of the backlog not yet sent when the text was


@dataclass
class Batch:
    """Prepared Slack events and the tag each reply carries."""

    requests: list[Prepared] = field(default_factory=list)
    tags: list[int] = field(default_factory=list)


class Sandbox:
    """The emulators of one phase, set up as tests/e2e sets them up."""

    def __init__(self, workdir: Path, name: str) -> None:
        self.workdir = workdir
        self.name = name
        self.slack = SlackEmulator()
        self.slack.add_channel(INBOX, "sms-inbox")
        self.slack.add_user(AGENT, "ana", "Ana Ruiz", display_name="Ana")
        self.slack.join(INBOX, AGENT)
        self.posted: TagClock[RecordedCall] = TagClock(_posted_tag)
        self.slack.calls = self.posted
        self.twilio = TwilioEmulator()
        self.sent: TagClock[SentMessage] = TagClock(_sent_tag)
        self.twilio.sent = self.sent
        self.subscribers = [f"+1415555{3000 + n:04d}" for n in range(1000)]
        self._next_tag = 0

    @classmethod
    @contextlib.asynccontextmanager
    async def running(cls, workdir: Path, name: str) -> AsyncIterator[Sandbox]:
        sandbox = cls(workdir, name)
        await sandbox.slack.start()
        await sandbox.twilio.start()
        try:
            yield sandbox
        finally:
            await sandbox.twilio.stop()
            await sandbox.slack.stop()

    def settings(self, db: Path, config: Path, sms_rate: float) -> dict[str, str]:
        """The emulators' environment, as the e2e `serve` fixture sets it."""
        return emulator_env(self.slack, self.twilio, db) | {
            "BRIDGE_CONFIG": str(config),
            "BRIDGE_LOG_LEVEL": "warning",
            "BRIDGE_SMS_RATE": f"{sms_rate:g}",
            **FAST_SLACK,
        }

    @contextlib.asynccontextmanager
    async def bridge(self, *, undo_seconds: float, sms_rate: float) -> AsyncIterator[ChildServer]:
        config = self.workdir / f"{self.name}.yml"
        config.write_text(f"slack:\n  undo_seconds: {undo_seconds:g}\n")
        db = self.workdir / f"{self.name}.db"
        child = await start_bridge(self.settings(db, config, sms_rate), self.workdir)
        self.twilio.route_webhooks(PUBLIC_URL, child.url)  # status callbacks reach it
        self.slack.echo_url = f"{child.url}/slack/events"  # Slack echoes the bridge's posts
        try:
            yield child
        finally:
            self.slack.echo_url = None
            await child.stop()

    def tag(self) -> int:
        self._next_tag += 1
        return self._next_tag

    async def text(self, child: ChildServer, phone: str, body: str) -> None:
        """A subscriber texts the business number; Twilio posts the signed webhook."""
        answer = await self.twilio.send_inbound(
            f"{child.url}/sms/inbound",
            public_url=f"{PUBLIC_URL}/sms/inbound",
            from_=phone,
            to=BUSINESS,
            body=body,
        )
        if answer.status != 200:
            raise RuntimeError(f"inbound webhook answered {answer.status}: {answer.text[:200]}")

    def _parents(self) -> set[str]:
        return {m.ts for m in self.slack.messages(INBOX) if m.text.startswith("SMS conversation")}

    async def open_conversations(self, child: ChildServer, count: int) -> list[str]:
        """As tests/support.py open_thread(), one subscriber after another: the first
        text, then its parent card and the text in the thread. Returns the threads' ts."""
        return [await self._open(child, phone) for phone in self.subscribers[:count]]

    async def _open(self, child: ChildServer, phone: str) -> str:
        before = self._parents()
        await self.text(child, phone, "Hello?")
        if not await wait_until(lambda: len(self._parents()) > len(before), within=10):
            raise RuntimeError(f"{phone}: no parent card in Slack")
        (parent,) = self._parents() - before
        if not await wait_until(lambda: bool(self.slack.replies(INBOX, parent)), within=10):
            raise RuntimeError(f"{phone}: the first text is not in its thread")
        return parent

    def prepare_replies(self, threads: Sequence[str], count: int) -> Batch:
        """The agent posts `count` replies round-robin over `threads`; each becomes the
        signed Events API request Slack would send (as `SlackEmulator.deliver`)."""
        batch = Batch()
        for n in range(count):
            tag = self.tag()
            event = self.slack.user_posts(
                INBOX, AGENT, REPLY.format(tag=tag), thread_ts=threads[n % len(threads)]
            )
            body = json.dumps(self.slack.envelope(event))
            stamp = str(int(time.time()))
            headers = {
                "Content-Type": "application/json",
                "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
                "X-Slack-Request-Timestamp": stamp,
                "X-Slack-Signature": self.slack.sign(body, stamp),
            }
            batch.requests.append(Prepared(body.encode(), headers))
            batch.tags.append(tag)
        return batch

    async def probe(
        self, child: ChildServer, phone: str, within: float, backlog: Sequence[int] = ()
    ) -> Probe:
        """A subscriber's text, timed into Slack, noting how many of the `backlog`
        replies were still unsent when it was sent."""
        tag = self.tag()
        unsent = len(backlog) - self.sent.seen(backlog)
        started = time.perf_counter()
        await self.text(child, phone, PROBE.format(tag=tag))
        if not await wait_until(lambda: tag in self.posted.at, within=within):
            return Probe(None, unsent)
        return Probe(self.posted.at[tag] - started, unsent)

    def duplicates(self, tags: Sequence[int]) -> int:
        wanted = set(tags)
        sends = sum(1 for m in self.sent if _sent_tag(m) in wanted)
        return sends - self.sent.seen(tags)


# --- phases ------------------------------------------------------------------------------------


@dataclass
class LatencyFigures:
    plan: LatencyPlan
    acks: Latencies  # Slack event → the bridge's 200 (the reply is stored by then)
    to_send: list[float]  # Slack event sent → Twilio accepted the message
    sent: int
    duplicates: int
    cpu: CpuMeter
    peak_rss_mb: float

    @property
    def beyond_window(self) -> list[float]:
        return [seconds - self.plan.undo_seconds for seconds in self.to_send]


@dataclass
class BacklogFigures:
    plan: BacklogPlan
    queueing: Throughput  # the events that made the backlog
    queued_before_first_send: bool
    send_times: list[float]  # perf_counter, sorted
    duplicates: int
    idle_probes: list[Probe]
    busy_probes: list[Probe]
    cpu: CpuMeter
    peak_rss_mb: float

    @property
    def sent(self) -> int:
        return len(self.send_times)

    @property
    def span(self) -> float:
        return self.send_times[-1] - self.send_times[0] if self.sent > 1 else 0.0

    @property
    def rate(self) -> float:
        """Sends a second from the first to the last: n - 1 intervals."""
        return (self.sent - 1) / self.span if self.span > 0 else float("nan")

    @property
    def share(self) -> float:
        return self.rate / self.plan.sms_rate

    @property
    def slowest_second(self) -> int:
        """Fewest sends in any whole second after the first send (a stall shows here)."""
        if self.sent < 2:
            return 0
        counts = [0] * int(self.span)
        for at in self.send_times:
            second = int(at - self.send_times[0])
            if second < len(counts):
                counts[second] += 1
        return min(counts) if counts else self.sent


async def latency_phase(workdir: Path, plan: LatencyPlan, name: str) -> LatencyFigures:
    async with (
        Sandbox.running(workdir, name) as sandbox,
        sandbox.bridge(undo_seconds=plan.undo_seconds, sms_rate=LATENCY_SMS_RATE) as child,
    ):
        threads = await sandbox.open_conversations(child, plan.conversations)
        batch = sandbox.prepare_replies(threads, plan.replies)
        sent_at: dict[int, float] = {}
        async with new_session(8) as session:
            with CpuMeter(child.pid) as cpu, MemorySampler(child.pid) as memory:
                offsets = plan.offsets
                acks = await open_loop(
                    session,
                    f"{child.url}/slack/events",
                    batch.requests,
                    rate=plan.rate,
                    duration=offsets[-1] + 1,  # all of them
                    on_sent=sent_at,
                    offsets=offsets,
                )
                await wait_until(
                    lambda: sandbox.sent.seen(batch.tags) == len(batch.tags),
                    within=plan.undo_seconds + 10,
                )
        await asyncio.sleep(0.5)  # a second send of anything would show up here
        to_send = [
            sandbox.sent.at[tag] - sent_at[index]
            for index, tag in enumerate(batch.tags)
            if tag in sandbox.sent.at and index in sent_at
        ]
        return LatencyFigures(
            plan=plan,
            acks=acks,
            to_send=to_send,
            sent=sandbox.sent.seen(batch.tags),
            duplicates=sandbox.duplicates(batch.tags),
            cpu=cpu,
            peak_rss_mb=memory.peak_rss_mb,
        )


async def backlog_phase(workdir: Path, plan: BacklogPlan, name: str) -> BacklogFigures:
    async with (
        Sandbox.running(workdir, name) as sandbox,
        sandbox.bridge(undo_seconds=BACKLOG_UNDO, sms_rate=plan.sms_rate) as child,
    ):
        threads = await sandbox.open_conversations(child, plan.conversations + plan.probes)
        # Probes come from conversations of their own, with no reply in the backlog.
        probe_phones = sandbox.subscribers[plan.conversations : plan.conversations + plan.probes]
        idle_probes = [await sandbox.probe(child, phone, within=10) for phone in probe_phones]
        batch = sandbox.prepare_replies(threads[: plan.conversations], plan.replies)
        probe_within = plan.drain_seconds * 1.5 + 30
        async with new_session(POST_CONCURRENCY) as session:
            with CpuMeter(child.pid) as cpu, MemorySampler(child.pid) as memory:
                queueing = await closed_loop(
                    session,
                    f"{child.url}/slack/events",
                    batch.requests,
                    concurrency=POST_CONCURRENCY,
                    duration=BACKLOG_UNDO * 4,
                )
                queued_at = time.perf_counter()
                await wait_until(lambda: sandbox.sent.seen(batch.tags) > 0, within=BACKLOG_UNDO + 5)
                first_send = time.perf_counter()
                # Probes spread over the expected drain, each waited for in the background.
                probes: list[asyncio.Task[Probe]] = []
                for k, phone in enumerate(probe_phones):
                    due = first_send + plan.drain_seconds * (k + 1) / (len(probe_phones) + 1)
                    await asyncio.sleep(max(0.0, due - time.perf_counter()))
                    probes.append(
                        asyncio.create_task(sandbox.probe(child, phone, probe_within, batch.tags))
                    )
                await wait_until(
                    lambda: sandbox.sent.seen(batch.tags) == len(batch.tags),
                    within=plan.drain_seconds * 1.5 + 30,
                )
                busy_probes = list(await asyncio.gather(*probes))
        await asyncio.sleep(0.5)
        send_times = sorted(sandbox.sent.at[tag] for tag in batch.tags if tag in sandbox.sent.at)
        return BacklogFigures(
            plan=plan,
            queueing=queueing,
            queued_before_first_send=bool(send_times) and queued_at <= send_times[0],
            send_times=send_times,
            duplicates=sandbox.duplicates(batch.tags),
            idle_probes=idle_probes,
            busy_probes=busy_probes,
            cpu=cpu,
            peak_rss_mb=memory.peak_rss_mb,
        )


# --- the report ------------------------------------------------------------------------------


def _met(ok: bool) -> str:
    return "met" if ok else "NOT met"


def _pcts(values: Sequence[float], qs: Sequence[int] = (50, 99)) -> str:
    if not values:
        return "n/a"
    parts = [f"p{q} {ms(percentile(values, q))}" for q in qs]
    return " / ".join([*parts, f"max {ms(max(values))}"])


def _probes(probes: Sequence[Probe], *, unsent: bool = True) -> str:
    if not probes:
        return "-"
    return ", ".join(
        ("not delivered" if p.seconds is None else f"{p.seconds:.2f} s")
        + (f" ({p.unsent} unsent)" if unsent else "")
        for p in probes
    )


def report(
    load_before: str,
    latency: Sequence[LatencyFigures],
    backlog: Sequence[BacklogFigures],
    command: str,
    out: Callable[[str], None],
) -> None:
    facts = machine_facts() | {"product": str(Path(bridge_package.__file__).parent.parent)}
    out(f"# Outbound benchmark — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    out("")
    out(f"command: `{command}`")
    out("machine: " + ", ".join(f"{k} {v}" for k, v in facts.items()))
    out(f"load average before / after the run: {load_before} / {loadavg()}")
    out("")
    out(
        "Slack event → Twilio send; replies round-robin over the conversations, Poisson "
        f"arrivals at the offered rate (seeded), BRIDGE_SMS_RATE={LATENCY_SMS_RATE:g}:"
    )
    out("")
    out(
        "| phase | conversations | offered | sent once / replies | event → 200 | "
        "event → Twilio send | beyond the window | bridge CPU and others' |"
    )
    out("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for fig in latency:
        p = fig.plan
        out(
            f"| {p.label} | {p.conversations} | {p.rate:g}/s | {fig.sent - fig.duplicates}"
            f"/{p.replies}{f' ({fig.duplicates} sent twice)' if fig.duplicates else ''}"
            f"{f', {fig.acks.failed} events not 200' if fig.acks.failed else ''} "
            f"| {_pcts(fig.acks.from_send)} | {_pcts(fig.to_send)} "
            f"| {_pcts(fig.beyond_window)} | {fig.cpu.describe()} |"
        )
    out("")
    out(
        f"Backlog: replies queued inside a {BACKLOG_UNDO:g} s undo window (so all are stored "
        "before any is due), one sender for all conversations:"
    )
    out("")
    out(
        "| BRIDGE_SMS_RATE | replies / conversations | queued before the first send "
        "| sent once | first → last send | achieved sends/s | of the rate | slowest second "
        "| SMS→Slack before | SMS→Slack during the drain (replies unsent then) "
        "| bridge CPU and others' |"
    )
    out("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for drain in backlog:
        bp = drain.plan
        queued = (
            f"{'yes' if drain.queued_before_first_send else 'no'} "
            f"({drain.queueing.ok} events 200 in {drain.queueing.elapsed:.1f} s"
            f"{f', {drain.queueing.failed} not 200' if drain.queueing.failed else ''})"
        )
        out(
            f"| {bp.sms_rate:g}/s | {bp.replies} / {bp.conversations} | {queued} "
            f"| {drain.sent - drain.duplicates}/{bp.replies}"
            f"{f' ({drain.duplicates} twice)' if drain.duplicates else ''} | {drain.span:.2f} s "
            f"| **{drain.rate:.2f}** | {drain.share:.1%} | {drain.slowest_second} "
            f"| {_probes(drain.idle_probes, unsent=False)} | {_probes(drain.busy_probes)} "
            f"| {drain.cpu.describe()} |"
        )
    peak = max([f.peak_rss_mb for f in latency] + [f.peak_rss_mb for f in backlog])
    out("")
    out(f"Bridge peak VmRSS over all phases: {peak:.0f} MiB.")
    out("")
    out("| target | measured | |")
    out("| --- | --- | --- |")
    for fig in latency:
        added = percentile(fig.beyond_window, 99)
        complete = fig.sent == fig.plan.replies and fig.duplicates == 0
        out(
            f"| bridge adds ≤ {ms(TARGET_ADDED_P99)} p99 beyond the undo window "
            f"({fig.plan.label}) | {ms(added)} "
            f"| {_met(added <= TARGET_ADDED_P99 and complete and fig.acks.failed == 0)} |"
        )
    for drain in backlog:
        complete = drain.sent == drain.plan.replies and drain.duplicates == 0
        out(
            f"| ≥ {TARGET_SHARE:.0%} of the sender rate under a backlog "
            f"(BRIDGE_SMS_RATE={drain.plan.sms_rate:g}) | {drain.rate:.2f}/s = {drain.share:.1%} "
            f"| {_met(drain.share >= TARGET_SHARE and complete)} |"
        )


async def main() -> None:
    parser = bench_parser(__doc__.split("\n\n")[0] if __doc__ else None)
    args = parser.parse_args()
    plan = Plan.quick() if args.quick else Plan.full()
    command = " ".join([".venv/bin/python", "bench/outbound.py", *sys.argv[1:]])

    load_before = await settle(args.wait_quiet)
    latency: list[LatencyFigures] = []
    backlog: list[BacklogFigures] = []
    with tempfile.TemporaryDirectory(prefix="bench-outbound-") as tmp:
        workdir = Path(tmp)
        for n, latency_plan in enumerate(plan.latency):
            progress(f"latency: {latency_plan.label}")
            latency.append(await latency_phase(workdir, latency_plan, f"latency-{n}"))
        for n, backlog_plan in enumerate(plan.backlog):
            progress(f"backlog: BRIDGE_SMS_RATE={backlog_plan.sms_rate:g}")
            backlog.append(await backlog_phase(workdir, backlog_plan, f"backlog-{n}"))
    report(load_before, latency, backlog, command, out)


if __name__ == "__main__":
    asyncio.run(main())
