"""Inbound benchmark: Twilio webhooks into the real `sms-bridge serve` process.

    .venv/bin/python bench/inbound.py [--quick] [--wait-quiet SECONDS]
                                      [--profile-throughput FILE] [--config FILE]

The Slack and Twilio emulators run in this process, next to the load generator; the
bridge runs as its own process (SQLite in a temporary directory), and so does a bare
aiohttp server that only answers 200 (the "ceiling"), driven by the same generator.
Each bridge phase gets a fresh bridge and database. Everything is bounded in time.

`--config` runs every bridge with that business configuration (`BRIDGE_CONFIG`), and
the Slack emulator gets its routing teams' channels: `bench/rules.yml` has 10 routing
rules and 5 notification rules.

Figures: sustained webhooks/s to a durable 200, open-loop latency at a fixed rate,
SMS→Slack latency, Slack calls per text, and the bridge's memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import pstats
import re
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

from common import (
    ChildServer,
    CpuMeter,
    Latencies,
    MemorySampler,
    Prepared,
    Throughput,
    bench_parser,
    closed_loop,
    cpu_seconds,
    loadavg,
    machine_facts,
    ms,
    new_session,
    open_loop,
    out,
    percentile,
    progress,
    read_memory,
    settle,
    start_bridge,
    start_ceiling,
)

import bridge as bridge_package
from bridge.config import load_business_config
from bridge.sandbox.recorder import RecordedCall
from bridge.sandbox.slack_emulator import SlackEmulator
from bridge.sandbox.twilio_emulator import TwilioEmulator
from bridge.sandbox.wiring import BUSINESS, INBOX, PUBLIC_URL, emulator_env

SUBSCRIBERS = 200
BODY = "bench-{tag} Hi! Are you open on Saturday? I'd like to book a table for four at 7pm."
# A text's tag: `bench-N` in BODY, or ` [N]` after a realistic text (`Sandbox(texts=...)`),
# where it reads as no word and no order number to the drafting engines.
TAG = re.compile(r"bench-(\d+)|\[(\d+)\]")
FAST_PACING = {"BRIDGE_SLACK_POST_RATE": "200", "BRIDGE_SLACK_POST_BURST": "50"}

# The targets (one process with SQLite).
TARGET_RATE = 2000.0  # webhooks/s sustained to a durable 200
TARGET_P99 = 0.025  # seconds, at 500/s
TARGET_CALLS = 1.1  # Slack calls per text in steady state
TARGET_RSS = 150.0  # MB (10**6 bytes) under that load


@dataclass(frozen=True)
class Plan:
    throughput_seconds: float
    concurrency: int
    latency_rate: float
    latency_seconds: float
    paced_seconds: int  # default pacing: one text a second for this long
    paced_conversations: int
    fast_rate: float  # BRIDGE_SLACK_POST_RATE=200: texts a second
    fast_texts_per_conversation: int  # K texts after each conversation's first

    @classmethod
    def full(cls) -> Plan:
        return cls(10, 64, 500, 10, 20, 4, 100, 5)

    @classmethod
    def quick(cls) -> Plan:
        return cls(3, 64, 500, 3, 6, 4, 100, 2)


# --- the sandbox: emulators, request building, delivery watching -----------------------------


def tags_in(text: str) -> list[int]:
    """Every tag in a text: a burst's post carries several texts (bench/burst.py)."""
    return [int(found.group(1) or found.group(2)) for found in TAG.finditer(text)]


def tag_in(text: str) -> int | None:
    found = TAG.search(text)
    return int(found.group(1) or found.group(2)) if found else None


class PostWatch(list[RecordedCall]):
    """The Slack emulator's call log, noting when each tagged text was posted.

    The emulator appends a call once it has stored the message, so the time noted is
    when the text became visible in Slack; `at[i]` is that time for every call."""

    def __init__(self) -> None:
        super().__init__()
        self.posted_at: dict[int, float] = {}
        self.at: list[float] = []

    def append(self, call: RecordedCall, /) -> None:
        super().append(call)
        now = time.perf_counter()
        self.at.append(now)
        if call.method == "chat.postMessage" and call.status == 200 and call.error is None:
            for tag in tags_in(str(call.args.get("text", ""))):
                self.posted_at.setdefault(tag, now)


@dataclass
class Batch:
    """Prepared webhooks and the tag each one's text carries."""

    requests: list[Prepared] = field(default_factory=list)
    tags: list[int] = field(default_factory=list)


class Sandbox:
    """The emulators and the bridges' settings. `texts`, when given, are the bodies the
    webhooks carry in turn (each followed by its tag) instead of BODY; `env` is added to
    every bridge's environment (e.g. BRIDGE_CONFIG)."""

    def __init__(
        self,
        workdir: Path,
        *,
        texts: Sequence[str] | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.workdir = workdir
        self.texts = list(texts) if texts else None
        self.env = dict(env or {})
        self.slack = SlackEmulator()
        self.slack.add_channel(INBOX, "sms-inbox")
        self.watch = PostWatch()
        self.slack.calls = self.watch
        self.twilio = TwilioEmulator()
        self.subscribers = [f"+1415555{2000 + n:04d}" for n in range(SUBSCRIBERS)]
        self._signed_url = f"{PUBLIC_URL}/sms/inbound"
        self._next_tag = 0
        self._bridges = 0

    async def start(self) -> None:
        await self.slack.start()
        await self.twilio.start()

    async def stop(self) -> None:
        await self.twilio.stop()
        await self.slack.stop()

    def settings(self, db: Path) -> dict[str, str]:
        """The emulators' environment, with the default Slack pacing unless overridden."""
        quiet = {"BRIDGE_LOG_LEVEL": "warning"}
        return emulator_env(self.slack, self.twilio, db) | quiet | self.env

    def body(self, tag: int) -> str:
        if self.texts is None:
            return BODY.format(tag=tag)
        return f"{self.texts[tag % len(self.texts)]} [{tag}]"

    @contextlib.asynccontextmanager
    async def bridge(
        self,
        extra: Mapping[str, str] | None = None,
        *,
        profile_to: Path | None = None,
        processes: int = 1,
    ) -> AsyncIterator[tuple[ChildServer, Path]]:
        """A fresh bridge (`processes` of them on one port) with its own database;
        stopped on the way out."""
        self._bridges += 1
        db = self.workdir / f"bridge-{self._bridges}.db"
        settings = self.settings(db) | dict(extra or {})
        child = await start_bridge(
            settings, self.workdir, profile_to=profile_to, processes=processes
        )
        self.slack.echo_url = f"{child.url}/slack/events"  # Slack echoes the bridge's posts
        try:
            yield child, db
        finally:
            self.slack.echo_url = None
            await child.stop()

    def prepare(self, subscriber_of: Sequence[int]) -> Batch:
        """One signed webhook per entry, from subscriber number `subscriber_of[i]`, each
        with a new MessageSid and a new tag. The form is the one Twilio posts."""
        batch = Batch()
        for subscriber in subscriber_of:
            tag = self._next_tag
            self._next_tag += 1
            sid = f"SM{tag:032x}"
            from_ = self.subscribers[subscriber]
            body = self.body(tag)
            params = {
                "ToCountry": "US",
                "ToState": "CA",
                "ToCity": "",
                "ToZip": "",
                "SmsMessageSid": sid,
                "NumMedia": "0",
                "SmsSid": sid,
                "SmsStatus": "received",
                "Body": body,
                "FromCountry": "US",
                "FromState": "CA",
                "FromCity": "",
                "FromZip": "",
                "To": BUSINESS,
                "From": from_,
                "NumSegments": "1",
                "MessageSid": sid,
                "AccountSid": self.twilio.account_sid,
                "ApiVersion": "2010-04-01",
            }
            headers = {
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Twilio-Signature": self.twilio.sign(self._signed_url, params),
                "User-Agent": "TwilioProxy/1.1",
            }
            batch.requests.append(Prepared(urlencode(params).encode(), headers))
            batch.tags.append(tag)
        return batch

    async def delivered(self, tags: Sequence[int], within: float) -> bool:
        """Wait (at most `within` seconds) until every tagged text is in Slack."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if all(tag in self.watch.posted_at for tag in tags):
                return True
            await asyncio.sleep(0.02)
        return False


def spread(count: int, among: int = SUBSCRIBERS) -> list[int]:
    """Subscriber indexes round-robin over the first `among` subscribers."""
    return [n % among for n in range(count)]


# --- phases ------------------------------------------------------------------------------------


@dataclass
class LoadFigures:
    throughput: Throughput
    latency: Latencies
    throughput_cpu: CpuMeter
    latency_cpu: CpuMeter


@dataclass
class BridgeFigures(LoadFigures):
    peak_rss_mb: float
    hwm_mb: float
    stored: int  # messages in the database after the throughput phase
    backlog: int  # post jobs still queued when the throughput phase ended


@dataclass
class SlackFigures:
    label: str
    rate: float
    texts: int
    delivered: int
    latencies: list[float]  # webhook sent → message visible in the Slack emulator
    steady_calls: Counter[str]  # by method, parents and auth.test excluded
    parent_posts: int
    all_calls: int  # since this bridge started, auth.test excluded
    all_texts: int
    refused_calls: int  # non-200 answers (e.g. 429) among them
    webhook_failures: int
    cpu: CpuMeter  # over the measured texts
    # For bench/ai_inbound.py: the raw material behind the figures above.
    steady_log: list[tuple[float, RecordedCall]] = field(default_factory=list)  # (seen at, call)
    sent_at: dict[int, float] = field(default_factory=dict)  # steady text's tag → webhook sent
    webhook: Latencies | None = None  # the steady webhooks' answers
    # Bridge CPU seconds from the first steady text until no job was left, less what it
    # uses with nothing to do over that time (measured just before).
    work_cpu: float = 0.0
    peak_rss_mb: float = 0.0
    hwm_mb: float = 0.0
    metrics: str = ""  # the bridge's /metrics at the end of the phase
    db: Path | None = None

    @property
    def per_text(self) -> float:
        return sum(self.steady_calls.values()) / self.texts if self.texts else float("nan")

    @property
    def per_text_with_parents(self) -> float:
        return self.all_calls / self.all_texts if self.all_texts else float("nan")


def count_messages(db: Path) -> int:
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        row = conn.execute("SELECT count(*) FROM messages").fetchone()
        return int(row[0])


async def scrape(child: ChildServer) -> str:
    async with (
        new_session(1) as session,
        session.get(f"{child.url}/metrics") as response,
    ):
        return await response.text()


def metric_values(text: str, name: str) -> dict[str, float]:
    """One Prometheus metric's samples from /metrics text, keyed by their label string."""
    found: dict[str, float] = {}
    for match in re.finditer(rf"^{name}(?:\{{([^}}]*)\}})? ([0-9.e+-]+|NaN)$", text, re.M):
        found[match.group(1) or ""] = float(match.group(2))
    return found


async def queued_posts(child: ChildServer) -> int:
    depth = metric_values(await scrape(child), "bridge_queue_depth")
    return int(depth.get('kind="post_inbound"', -1))


async def idle(child: ChildServer, within: float) -> bool:
    """Wait (at most `within` seconds) until the bridge has no job left but dead ones
    and digests (due at the end of their period, not work of the texts)."""
    deadline = time.monotonic() + within
    later = {'kind="dead"', 'kind="digest"'}
    while time.monotonic() < deadline:
        depth = metric_values(await scrape(child), "bridge_queue_depth")
        if all(count == 0 for label, count in depth.items() if label not in later):
            return True
        await asyncio.sleep(0.1)
    return False


async def drive(
    url: str, plan: Plan, requests: Sequence[Prepared], pid: int, *, cycle: bool = False
) -> tuple[Throughput, CpuMeter]:
    async with new_session(plan.concurrency) as session:
        with CpuMeter(pid) as cpu:
            result = await closed_loop(
                session,
                url,
                requests,
                concurrency=plan.concurrency,
                duration=plan.throughput_seconds,
                cycle=cycle,
            )
    return result, cpu


async def fixed_rate(url: str, plan: Plan, batch: Batch, pid: int) -> tuple[Latencies, CpuMeter]:
    async with new_session(plan.concurrency) as session:
        with CpuMeter(pid) as cpu:
            result = await open_loop(
                session, url, batch.requests, rate=plan.latency_rate, duration=plan.latency_seconds
            )
    return result, cpu


async def ceiling_phase(sandbox: Sandbox, plan: Plan) -> LoadFigures:
    pool = sandbox.prepare(spread(int(plan.latency_rate * plan.latency_seconds)))
    ceiling = await start_ceiling(sandbox.workdir)
    try:
        url = f"{ceiling.url}/sms/inbound"
        # The ceiling ignores MessageSids, so it may reuse a pool of requests.
        tp, tp_cpu = await drive(url, plan, pool.requests, ceiling.pid, cycle=True)
        lat, lat_cpu = await fixed_rate(url, plan, pool, ceiling.pid)
    finally:
        await ceiling.stop()
    return LoadFigures(tp, lat, tp_cpu, lat_cpu)


async def bridge_load_phase(
    sandbox: Sandbox,
    plan: Plan,
    ceiling_rate: float,
    profile_to: Path | None,
    *,
    processes: int = 1,
) -> BridgeFigures:
    # Unique MessageSids, enough for the window at the ceiling's rate (capped at 4x the
    # target: running out is reported, never silent).
    rate_cap = min(max(ceiling_rate, TARGET_RATE), 4 * TARGET_RATE)
    count = int(rate_cap * plan.throughput_seconds * 1.2) + 1000
    unique = sandbox.prepare(spread(count))
    latency = sandbox.prepare(spread(int(plan.latency_rate * plan.latency_seconds)))
    hwm = 0.0
    async with sandbox.bridge(profile_to=profile_to, processes=processes) as (child, db):
        url = f"{child.url}/sms/inbound"
        with MemorySampler(child.pid) as tp_memory:
            tp, tp_cpu = await drive(url, plan, unique.requests, child.pid)
        backlog = await queued_posts(child)
        hwm = max(hwm, _hwm(child.pid))
    stored = count_messages(db)
    # A fresh bridge for the fixed rate, so the throughput phase's backlog is not in it.
    async with sandbox.bridge(processes=processes) as (child, _db):
        url = f"{child.url}/sms/inbound"
        with MemorySampler(child.pid) as lat_memory:
            lat, lat_cpu = await fixed_rate(url, plan, latency, child.pid)
        hwm = max(hwm, _hwm(child.pid))
    peak = max(tp_memory.peak_rss_mb, lat_memory.peak_rss_mb)
    return BridgeFigures(tp, lat, tp_cpu, lat_cpu, peak, hwm, stored, backlog)


def _hwm(pid: int) -> float:
    memory = read_memory(pid)
    return memory.hwm_mb if memory else 0.0


async def slack_phase(
    sandbox: Sandbox,
    *,
    label: str,
    conversations: int,
    texts_each: int,
    rate: float,
    warmup_rate: float,
    pacing: Mapping[str, str] | None = None,
) -> SlackFigures:
    """Open `conversations` threads (their first texts are the warm-up), then send
    `texts_each` more per conversation at `rate` and time each one into Slack.

    Steady state starts once the warm-up's jobs are all done (late drafts included),
    and ends 1.5 s after the bridge has no job left (so late drafts count too)."""
    first = sandbox.prepare(spread(conversations))
    steady = sandbox.prepare(spread(conversations * texts_each, among=conversations))
    async with sandbox.bridge(pacing) as (child, db):
        url = f"{child.url}/sms/inbound"
        calls_from = len(sandbox.watch)
        with MemorySampler(child.pid) as memory:
            async with new_session(8) as session:
                warm = await open_loop(
                    session,
                    url,
                    first.requests,
                    rate=warmup_rate,
                    duration=conversations / warmup_rate,
                )
                warm_ok = await sandbox.delivered(first.tags, within=conversations * 2.0 + 10)
                if not warm_ok:
                    raise RuntimeError(f"{label}: the warm-up texts did not all reach Slack")
                if not await idle(child, within=30.0):
                    progress(f"{label}: jobs of the warm-up still queued after 30 s")
                # Let the pacing bucket refill, so the measured texts start from steady state;
                # meanwhile the bridge's CPU with nothing to do (polls, heartbeats).
                idle_from, idle_wall = cpu_seconds(child.pid), time.perf_counter()
                await asyncio.sleep(4.0 if rate <= 1 else 2.0)
                idle_rate = (cpu_seconds(child.pid) - idle_from) / (time.perf_counter() - idle_wall)
                steady_from = len(sandbox.watch)
                cpu_from, work_from = cpu_seconds(child.pid), time.perf_counter()
                sent_at: dict[int, float] = {}
                with CpuMeter(child.pid) as cpu:
                    result = await open_loop(
                        session,
                        url,
                        steady.requests,
                        rate=rate,
                        duration=len(steady.requests) / rate,
                        on_sent=sent_at,
                    )
            await sandbox.delivered(steady.tags, within=30.0)
            if not await idle(child, within=60.0):
                progress(f"{label}: jobs still queued 60 s after the last text")
            work_wall = time.perf_counter() - work_from
            work_cpu = cpu_seconds(child.pid) - cpu_from - idle_rate * work_wall
            await asyncio.sleep(1.5)  # any trailing call (e.g. a header refresh) is counted too
            calls = list(sandbox.watch)
            seen_at = list(sandbox.watch.at)
        metrics = await scrape(child)
        hwm = _hwm(child.pid)
    steady_calls: Counter[str] = Counter()
    for call in calls[steady_from:]:
        if call.method != "auth.test" and not _is_parent(call):
            steady_calls[call.method] += 1
    counted = [call for call in calls[calls_from:] if call.method != "auth.test"]
    latencies = [
        sandbox.watch.posted_at[tag] - sent_at[index]
        for index, tag in enumerate(steady.tags)
        if tag in sandbox.watch.posted_at and index in sent_at
    ]
    return SlackFigures(
        label=label,
        rate=rate,
        texts=len(steady.tags),
        delivered=len(latencies),
        latencies=latencies,
        steady_calls=steady_calls,
        parent_posts=sum(1 for call in counted if _is_parent(call)),
        all_calls=len(counted),
        all_texts=len(first.tags) + len(steady.tags),
        refused_calls=sum(1 for call in counted if call.status != 200),
        webhook_failures=warm.failed + result.failed,
        cpu=cpu,
        steady_log=list(zip(seen_at[steady_from:], calls[steady_from:], strict=True)),
        sent_at={tag: sent_at[index] for index, tag in enumerate(steady.tags) if index in sent_at},
        webhook=result,
        work_cpu=work_cpu,
        peak_rss_mb=memory.peak_rss_mb,
        hwm_mb=hwm,
        metrics=metrics,
        db=db,
    )


def _is_parent(call: RecordedCall) -> bool:
    return call.method == "chat.postMessage" and not call.args.get("thread_ts")


# --- the report ------------------------------------------------------------------------------


def _met(ok: bool) -> str:
    return "met" if ok else "NOT met"


def _pcts(values: Sequence[float], qs: Sequence[int] = (50, 95, 99)) -> str:
    parts = [f"p{q} {ms(percentile(values, q))}" for q in qs]
    return " / ".join([*parts, f"max {ms(max(values)) if values else 'n/a'}"])


def _statuses(statuses: dict[int, int]) -> str:
    if not statuses:
        return "0"
    return ", ".join(f"{n} x {'no answer' if s == 0 else s}" for s, n in sorted(statuses.items()))


def report(
    load_before: str,
    plan: Plan,
    ceiling: LoadFigures,
    bridge: BridgeFigures,
    slack: Sequence[SlackFigures],
    command: str,
    out: Callable[[str], None],
    *,
    profiled: bool = False,
) -> None:
    facts = machine_facts() | {"product": str(Path(bridge_package.__file__).parent.parent)}
    out(f"# Inbound benchmark — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    out("")
    out(f"command: `{command}`")
    out("machine: " + ", ".join(f"{k} {v}" for k, v in facts.items()))
    out(f"load average before / after the run: {load_before} / {loadavg()}")
    out("")
    tp, ctp = bridge.throughput, ceiling.throughput
    lat, clat = bridge.latency, ceiling.latency
    out("| figure | bridge | ceiling (bare aiohttp) |")
    out("| --- | --- | --- |")
    out(
        f"| webhooks/s with 200, {plan.concurrency} concurrent, {plan.throughput_seconds:g} s "
        f"| **{tp.rate:,.0f}** | {ctp.rate:,.0f} |"
    )
    out(
        "| slowest / fastest whole second "
        f"| {min(tp.per_second):,} / {max(tp.per_second):,} "
        f"| {min(ctp.per_second):,} / {max(ctp.per_second):,} |"
    )
    out(f"| non-200 in the throughput run | {_statuses(tp.statuses)} | {_statuses(ctp.statuses)} |")
    out(
        f"| CPU in the throughput run | {bridge.throughput_cpu.describe()} "
        f"| {ceiling.throughput_cpu.describe()} |"
    )
    out(
        f"| latency to 200 at {plan.latency_rate:g}/s open loop, from the scheduled send "
        f"| {_pcts(lat.from_schedule)} | {_pcts(clat.from_schedule)} |"
    )
    out(f"| the same, from the actual send | {_pcts(lat.from_send)} | {_pcts(clat.from_send)} |")
    out(
        f"| generator lag behind schedule, p99 | {ms(percentile(lat.send_lag, 99))} "
        f"| {ms(percentile(clat.send_lag, 99))} |"
    )
    out(
        f"| answered 200 / sent at {plan.latency_rate:g}/s | {lat.ok:,} / {lat.sent:,} "
        f"(non-200: {_statuses(lat.statuses)}) | {clat.ok:,} / {clat.sent:,} |"
    )
    out(
        f"| CPU at {plan.latency_rate:g}/s | {bridge.latency_cpu.describe()} "
        f"| {ceiling.latency_cpu.describe()} |"
    )
    out(
        f"| bridge RSS: peak VmRSS sampled / VmHWM | {bridge.peak_rss_mb:.0f} MiB / "
        f"{bridge.hwm_mb:.0f} MiB | |"
    )
    out(
        f"| messages in SQLite after the throughput run / 200s counted "
        f"| {bridge.stored:,} / {tp.ok:,} | |"
    )
    out(f"| Slack posts still queued after the throughput run | {bridge.backlog:,} | |")
    if profiled:
        out("| note | the throughput-phase bridge ran under cProfile: its figures are slowed | |")
    if tp.exhausted:
        out("| warning | the throughput run ran out of prepared requests | |")
    out("")
    out("SMS→Slack (webhook sent → message visible in the Slack emulator):")
    out("")
    out(
        "| pacing | offered | texts delivered | latency | Slack calls/text steady "
        "| incl. parents | calls by method (steady) | refused calls | CPU | bridge CPU per text |"
    )
    out("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for fig in slack:
        methods = ", ".join(f"{m} {n}" for m, n in sorted(fig.steady_calls.items()))
        out(
            f"| {fig.label} | {fig.rate:g} texts/s | {fig.delivered}/{fig.texts}"
            f"{f' ({fig.webhook_failures} webhooks not 200)' if fig.webhook_failures else ''} "
            f"| {_pcts(fig.latencies, (50, 99))} | {fig.per_text:.3f} "
            f"| {fig.per_text_with_parents:.3f} ({fig.all_calls} calls / {fig.all_texts} texts, "
            f"{fig.parent_posts} parents) | {methods or '-'} | {fig.refused_calls} "
            f"| {fig.cpu.describe()} | {fig.work_cpu / max(fig.texts, 1) * 1000:.2f} ms |"
        )
    out("")
    steady = slack[-1]
    p99 = percentile(lat.from_schedule, 99)
    out("| target | measured | |")
    out("| --- | --- | --- |")
    out(
        f"| ≥ {TARGET_RATE:,.0f} webhooks/s sustained to a durable 200 | {tp.rate:,.0f}/s, "
        f"non-200: {tp.failed} | {_met(tp.rate >= TARGET_RATE and tp.failed == 0)} |"
    )
    out(
        f"| p99 ≤ {ms(TARGET_P99)} at {plan.latency_rate:g}/s | {ms(p99)} "
        f"| {_met(p99 <= TARGET_P99 and lat.failed == 0)} |"
    )
    out(
        f"| ≤ {TARGET_CALLS} Slack calls per text, steady state | {steady.per_text:.3f} "
        f"({steady.label}) | {_met(steady.per_text <= TARGET_CALLS)} |"
    )
    out(
        f"| RSS ≤ {TARGET_RSS:.0f} MB under that load | VmHWM {bridge.hwm_mb:.0f} MiB "
        f"| {_met(bridge.hwm_mb * 1.048576 <= TARGET_RSS)} |"
    )


def print_profile(path: Path, out: Callable[[str], None], limit: int = 30) -> None:
    out("")
    out(f"cProfile of the throughput bridge ({path}), by cumulative then internal time:")
    stats = pstats.Stats(str(path), stream=sys.stdout)
    stats.sort_stats("cumulative").print_stats(limit)
    stats.sort_stats("tottime").print_stats(limit)


async def main() -> None:
    parser = bench_parser(__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help="the business configuration every bridge runs with (BRIDGE_CONFIG)",
    )
    parser.add_argument(
        "--profile-throughput",
        type=Path,
        metavar="FILE",
        help="run the throughput-phase bridge under cProfile and write the stats to FILE",
    )
    args = parser.parse_args()
    plan = Plan.quick() if args.quick else Plan.full()
    command = " ".join([".venv/bin/python", "bench/inbound.py", *sys.argv[1:]])

    load_before = await settle(args.wait_quiet)
    with tempfile.TemporaryDirectory(prefix="bench-inbound-") as tmp:
        config = {"BRIDGE_CONFIG": str(args.config.resolve())} if args.config else {}
        sandbox = Sandbox(Path(tmp), env=config)
        if args.config:
            for team in load_business_config(args.config).routing.teams.values():
                sandbox.slack.add_channel(team.channel, team.channel.lower())
                for member in team.members:
                    sandbox.slack.add_user(member, member.lower(), member, member)
                sandbox.slack.join(team.channel, sandbox.slack.bot_user_id, *team.members)
        await sandbox.start()
        try:
            progress("ceiling: throughput and fixed rate")
            ceiling = await ceiling_phase(sandbox, plan)
            progress("bridge: throughput and fixed rate")
            profile = args.profile_throughput.resolve() if args.profile_throughput else None
            bridge = await bridge_load_phase(sandbox, plan, ceiling.throughput.rate, profile)
            progress("bridge: SMS→Slack at the default pacing")
            paced = await slack_phase(
                sandbox,
                label="default (1/s, burst 4)",
                conversations=plan.paced_conversations,
                texts_each=plan.paced_seconds // plan.paced_conversations,
                rate=1.0,
                warmup_rate=1.0,
            )
            progress("bridge: SMS→Slack with BRIDGE_SLACK_POST_RATE=200, BURST=50")
            fast = await slack_phase(
                sandbox,
                label="RATE=200, BURST=50",
                conversations=SUBSCRIBERS,
                texts_each=plan.fast_texts_per_conversation,
                rate=plan.fast_rate,
                warmup_rate=plan.fast_rate,
                pacing=FAST_PACING,
            )
        finally:
            await sandbox.stop()
    profiled = profile is not None
    report(load_before, plan, ceiling, bridge, [paced, fast], command, out, profiled=profiled)
    if profile is not None and profile.exists():
        print_profile(profile, out)


if __name__ == "__main__":
    asyncio.run(main())
