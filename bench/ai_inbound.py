"""Inbound with AI drafts (issue 6): texts into the real `sms-bridge serve` process, with
the demo's sample business and its knowledge base, and the AI drafting each text.

    .venv/bin/python bench/ai_inbound.py --drafts off,offline      # the cost of drafting
    .venv/bin/python bench/ai_inbound.py --drafts claude-fast      # Claude within the wait
    .venv/bin/python bench/ai_inbound.py --drafts claude-slow      # Claude slower than it

Modes (several, comma-separated, run one after the other in one run):
  off          ai.enabled: false
  offline      the offline engine (no API key): drafts are ready at once
  claude-fast  Claude through the Anthropic emulator answering in 0.2 s, draft_wait_seconds 2
  claude-slow  the emulator answering in 1.0 s, draft_wait_seconds 0.3: the text is posted
               when the wait ends, and its draft later as its own message

Every bridge reads a copy of `bridge/sandbox/sample/business.yml` (knowledge path made
absolute, `ai.auto_reply.enabled: false` so no SMS is sent). The texts are the questions
of `bench/ai_eval_questions.yml` in a fixed shuffled order, answerable and not, each
followed by its tag (` [N]`). The phases are bench/inbound.py's (webhook throughput,
latency at a fixed rate, SMS→Slack at the default and at a fast Slack pacing), plus, for
off and offline, how fast a burst of texts reaches Slack when Slack pacing is no limit.
The Claude modes run only the SMS→Slack phases, at a moderate rate (the webhook path does
not draft). Every figure is printed; nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import re
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from common import (
    CpuMeter,
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
    settle,
)
from inbound import (
    FAST_PACING,
    SUBSCRIBERS,
    BridgeFigures,
    LoadFigures,
    Plan,
    Sandbox,
    SlackFigures,
    bridge_load_phase,
    ceiling_phase,
    idle,
    metric_values,
    slack_phase,
    spread,
    tag_in,
)

import bridge as bridge_package
from bridge.sandbox.anthropic_emulator import AnthropicEmulator
from bridge.sandbox.demo_sample import write_business_config
from bridge.sandbox.recorder import RecordedCall

BENCH = Path(__file__).resolve().parent
QUESTIONS = BENCH / "ai_eval_questions.yml"
TARGET_CALLS = 1.1  # Slack calls per text in steady state (the target)
OVERHEAD = 0.1  # seconds past draft_wait_seconds still counted as "within the wait"
UNPACED = {"BRIDGE_SLACK_POST_RATE": "100000", "BRIDGE_SLACK_POST_BURST": "1000"}
_DRAFT_ID = re.compile(r"^(?:draft_reply|draft_handoff|draft_actions):(.+)$")


@dataclass(frozen=True)
class Mode:
    name: str
    about: str
    ai: bool  # ai.enabled
    wait: float  # ai.draft_wait_seconds
    claude_delay: float | None  # the emulator's answer time; None: no API key (offline)
    load: bool  # run the webhook throughput, fixed-rate and capacity phases
    conversations: int  # the fast-pacing phase: conversations ...
    texts_each: int  # ... and measured texts in each, after its first
    rate: float  # texts a second in that phase


MODES = {
    mode.name: mode
    for mode in (
        Mode(
            name="off",
            about="ai.enabled: false",
            ai=False,
            wait=2.0,
            claude_delay=None,
            load=True,
            conversations=200,
            texts_each=5,
            rate=100.0,
        ),
        Mode(
            name="offline",
            about="offline engine, draft_wait_seconds 2",
            ai=True,
            wait=2.0,
            claude_delay=None,
            load=True,
            conversations=200,
            texts_each=5,
            rate=100.0,
        ),
        Mode(
            name="claude-fast",
            about="Claude (emulator) answering in 0.2 s, draft_wait_seconds 2",
            ai=True,
            wait=2.0,
            claude_delay=0.2,
            load=False,
            conversations=50,
            texts_each=6,
            rate=10.0,
        ),
        Mode(
            name="claude-slow",
            about="Claude (emulator) answering in 1.0 s, draft_wait_seconds 0.3",
            ai=True,
            wait=0.3,
            claude_delay=1.0,
            load=False,
            conversations=40,
            texts_each=5,
            rate=4.0,
        ),
    )
}
QUICK = Plan.quick()


def texts(seed: int = 6) -> list[str]:
    """The evaluation questions as customers text them, in a fixed shuffled order."""
    entries = yaml.safe_load(QUESTIONS.read_text(encoding="utf-8"))
    questions = [str(entry["q"]) for entry in entries]
    random.Random(seed).shuffle(questions)
    return questions


def business_config(mode: Mode, folder: Path) -> Path:
    """The demo's sample business, with this mode's AI settings."""
    path = write_business_config(folder / f"business-{mode.name}.yml")
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    ai = raw.setdefault("ai", {})
    ai["enabled"] = mode.ai
    ai["draft_wait_seconds"] = mode.wait
    ai["auto_reply"] = {**(ai.get("auto_reply") or {}), "enabled": False}
    path.write_text(yaml.safe_dump(raw, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


# --- reading the Slack calls -----------------------------------------------------------------


def _blocks(call: RecordedCall) -> list[dict[str, Any]]:
    blocks = call.args.get("blocks")
    if isinstance(blocks, str):  # form-encoded calls carry blocks as JSON text
        with contextlib.suppress(ValueError):
            blocks = json.loads(blocks)
    return [b for b in blocks if isinstance(b, dict)] if isinstance(blocks, list) else []


def kind_of(call: RecordedCall) -> str:
    """What a Slack call was: a text with its draft, a text alone, a draft alone (late),
    a parent card, or another method."""
    if call.method != "chat.postMessage":
        return call.method
    if not call.args.get("thread_ts"):
        return "parent card"
    ids = [str(block.get("block_id", "")) for block in _blocks(call)]
    if "sms_text" in ids:
        return "text + draft"
    if tag_in(str(call.args.get("text", ""))) is not None:
        return "text alone"
    if ids:
        return "draft alone"
    return "other post"


def draft_message_id(call: RecordedCall) -> str | None:
    for block in _blocks(call):
        found = _DRAFT_ID.match(str(block.get("block_id", "")))
        if found:
            return found.group(1)
    return None


def tags_by_message(db: Path) -> dict[str, int]:
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        rows = conn.execute("SELECT id, body FROM messages WHERE direction = 'inbound'")
        return {str(mid): tag for mid, body in rows if (tag := tag_in(str(body))) is not None}


@dataclass
class DraftFigures:
    """What one SMS→Slack phase shows about drafts."""

    phase: SlackFigures
    wait: float
    kinds: Counter[str] = field(default_factory=Counter)  # steady calls by kind
    text_latency: list[float] = field(default_factory=list)  # webhook → text visible
    draft_latency: list[float] = field(default_factory=list)  # webhook → its draft visible
    unmatched_drafts: int = 0  # late drafts whose text is not a measured one
    outcomes: dict[str, float] = field(default_factory=dict)  # bridge_ai_drafts_total
    engine_seconds: tuple[float, float] = (0.0, 0.0)  # bridge_ai_draft_seconds sum, count
    anthropic_requests: int = 0
    retries: dict[str, float] = field(default_factory=dict)  # bridge_job_retries_total by kind

    @property
    def over_wait(self) -> int:
        return sum(1 for t in self.text_latency if t > self.wait + OVERHEAD)


def read_drafts(phase: SlackFigures, wait: float, anthropic_requests: int) -> DraftFigures:
    figures = DraftFigures(phase, wait, anthropic_requests=anthropic_requests)
    by_message = tags_by_message(phase.db) if phase.db else {}
    drafted_at: dict[int, float] = {}
    for seen, call in phase.steady_log:
        kind = kind_of(call)
        if call.method == "auth.test" or kind == "parent card":
            continue
        figures.kinds[kind] += 1
        if kind == "text + draft":
            tag = tag_in(str(call.args.get("text", "")))
        elif kind == "draft alone":
            message_id = draft_message_id(call)
            tag = by_message.get(message_id) if message_id else None
        else:
            continue
        if tag is not None and tag in phase.sent_at:
            drafted_at.setdefault(tag, seen)
        elif kind == "draft alone":
            figures.unmatched_drafts += 1
    figures.text_latency = list(phase.latencies)
    figures.draft_latency = [at - phase.sent_at[tag] for tag, at in drafted_at.items()]
    outcomes: Counter[str] = Counter()
    for labels, value in metric_values(phase.metrics, "bridge_ai_drafts_total").items():
        found = re.search(r'outcome="([^"]+)"', labels)
        engine = re.search(r'engine="([^"]+)"', labels)
        if found and value:
            name = found.group(1) if engine is None else f"{found.group(1)} ({engine.group(1)})"
            outcomes[name] += int(value)
    figures.outcomes = dict(sorted(outcomes.items()))
    total = sum(metric_values(phase.metrics, "bridge_ai_draft_seconds_sum").values())
    count = sum(metric_values(phase.metrics, "bridge_ai_draft_seconds_count").values())
    figures.engine_seconds = (total, count)
    for labels, value in metric_values(phase.metrics, "bridge_job_retries_total").items():
        found = re.search(r'kind="([^"]+)"', labels)
        if found and value:
            figures.retries[found.group(1)] = value
    return figures


# --- a burst with Slack pacing out of the way ------------------------------------------------


@dataclass
class Capacity:
    texts: int
    delivered: int
    loaded_in: float  # seconds to get every webhook answered
    done_in: float  # seconds from the first webhook to the last text visible in Slack
    cpu: CpuMeter
    cpu_until_idle: float  # bridge CPU seconds until no job was left

    @property
    def rate(self) -> float:
        return self.delivered / self.done_in if self.done_in else float("nan")


async def capacity_phase(sandbox: Sandbox, texts_each: int) -> Capacity:
    """200 threads opened first; then `texts_each` texts per conversation sent back to back
    by 64 connections, and timed until the last one is in Slack."""
    first = sandbox.prepare(spread(SUBSCRIBERS))
    burst = sandbox.prepare(spread(SUBSCRIBERS * texts_each))
    async with sandbox.bridge(UNPACED) as (child, _db):
        url = f"{child.url}/sms/inbound"
        async with new_session(64) as session:
            await open_loop(session, url, first.requests, rate=200.0, duration=1.0)
            if not await sandbox.delivered(first.tags, within=60.0):
                raise RuntimeError("capacity: the warm-up texts did not all reach Slack")
            await idle(child, within=60.0)
            cpu_from = cpu_seconds(child.pid)
            started = time.perf_counter()
            with CpuMeter(child.pid) as cpu:
                await closed_loop(session, url, burst.requests, concurrency=64, duration=120.0)
                loaded = time.perf_counter()
                await sandbox.delivered(burst.tags, within=120.0)
            await idle(child, within=60.0)
            cpu_until_idle = cpu_seconds(child.pid) - cpu_from
    seen = [sandbox.watch.posted_at[tag] for tag in burst.tags if tag in sandbox.watch.posted_at]
    return Capacity(
        texts=len(burst.tags),
        delivered=len(seen),
        loaded_in=loaded - started,
        done_in=(max(seen) - started) if seen else 0.0,
        cpu=cpu,
        cpu_until_idle=cpu_until_idle,
    )


# --- one mode ---------------------------------------------------------------------------------


@dataclass
class ModeFigures:
    mode: Mode
    load: BridgeFigures | None
    paced: DraftFigures
    fast: DraftFigures
    capacity: Capacity | None

    @property
    def hwm_mb(self) -> float:
        values = [self.paced.phase.hwm_mb, self.fast.phase.hwm_mb]
        if self.load:
            values.append(self.load.hwm_mb)
        return max(values)

    @property
    def peak_rss_mb(self) -> float:
        values = [self.paced.phase.peak_rss_mb, self.fast.phase.peak_rss_mb]
        if self.load:
            values.append(self.load.peak_rss_mb)
        return max(values)


async def run_mode(
    mode: Mode,
    sandbox: Sandbox,
    anthropic: AnthropicEmulator,
    plan: Plan,
    *,
    ceiling_rate: float,
    config: Path,
    workers: int | None,
    rate: float | None,
) -> ModeFigures:
    env = {"BRIDGE_CONFIG": str(config)}
    if mode.claude_delay is not None:
        anthropic.clear()
        anthropic.delay(mode.claude_delay)
        env |= {
            "ANTHROPIC_API_KEY": anthropic.api_key,
            "ANTHROPIC_BASE_URL": str(anthropic.base_url),
        }
    if workers is not None:
        env["BRIDGE_WORKERS"] = str(workers)
    sandbox.env = env
    load = None
    if mode.load:
        progress(f"{mode.name}: webhook throughput and fixed rate")
        load = await bridge_load_phase(sandbox, plan, ceiling_rate, None)
    progress(f"{mode.name}: SMS→Slack at the default pacing")
    before = len(anthropic.requests)
    paced = await slack_phase(
        sandbox,
        label="default (1/s, burst 4)",
        conversations=plan.paced_conversations,
        texts_each=plan.paced_seconds // plan.paced_conversations,
        rate=1.0,
        warmup_rate=1.0,
    )
    paced_drafts = read_drafts(paced, mode.wait, len(anthropic.requests) - before)
    fast_rate = rate or mode.rate
    texts_each = mode.texts_each if plan is not QUICK else max(2, mode.texts_each // 3)
    progress(f"{mode.name}: SMS→Slack with RATE=200, BURST=50 at {fast_rate:g} texts/s")
    before = len(anthropic.requests)
    fast = await slack_phase(
        sandbox,
        label="RATE=200, BURST=50",
        conversations=mode.conversations,
        texts_each=texts_each,
        rate=fast_rate,
        warmup_rate=fast_rate,
        pacing=FAST_PACING,
    )
    fast_drafts = read_drafts(fast, mode.wait, len(anthropic.requests) - before)
    capacity = None
    if mode.load:
        progress(f"{mode.name}: a burst with Slack pacing out of the way")
        capacity = await capacity_phase(sandbox, 5 if plan is QUICK else 15)
    return ModeFigures(mode, load, paced_drafts, fast_drafts, capacity)


# --- the report --------------------------------------------------------------------------------


def _pcts(values: Sequence[float], qs: Iterable[int] = (50, 99)) -> str:
    if not values:
        return "-"
    parts = [f"p{q} {ms(percentile(values, q))}" for q in qs]
    return " / ".join([*parts, f"max {ms(max(values))}"])


def _row(name: str, cells: Iterable[str]) -> str:
    return f"| {name} | " + " | ".join(cells) + " |"


def _kinds(kinds: Mapping[str, int]) -> str:
    if not kinds:
        return "-"
    return ", ".join(f"{kind} {n}" for kind, n in sorted(kinds.items(), key=lambda kv: -kv[1]))


def _outcomes(figures: DraftFigures) -> str:
    if not figures.outcomes:
        return "-"
    return ", ".join(f"{name} {n:.0f}" for name, n in figures.outcomes.items())


def _engine_ms(figures: DraftFigures) -> str:
    total, count = figures.engine_seconds
    return f"{total / count * 1000:.1f} ms" if count else "-"


def _phase_rows(title: str, results: Sequence[DraftFigures]) -> list[str]:
    rows = [_row(f"**{title}**", ["" for _ in results])]
    rows.append(
        _row(
            "offered / texts delivered",
            (
                f"{d.phase.rate:g} texts/s, {d.phase.delivered}/{d.phase.texts}"
                + (
                    f" ({d.phase.webhook_failures} webhooks not 200)"
                    if d.phase.webhook_failures
                    else ""
                )
                for d in results
            ),
        )
    )
    rows.append(_row("webhook → text visible in Slack", (_pcts(d.text_latency) for d in results)))
    rows.append(
        _row(
            f"texts later than the wait + {OVERHEAD * 1000:.0f} ms",
            (f"{d.over_wait} (wait {d.wait:g} s)" if d.outcomes else "-" for d in results),
        )
    )
    rows.append(
        _row(
            "webhook → draft visible in Slack",
            (
                _pcts(d.draft_latency)
                + (f" ({len(d.draft_latency)} drafts)" if d.draft_latency else "")
                + (f", {d.unmatched_drafts} late drafts unmatched" if d.unmatched_drafts else "")
                for d in results
            ),
        )
    )
    rows.append(
        _row("**Slack calls per text, steady**", (f"**{d.phase.per_text:.3f}**" for d in results))
    )
    rows.append(
        _row(
            "steady calls by kind (parents excluded)",
            (_kinds(d.kinds) for d in results),
        )
    )
    rows.append(
        _row(
            "incl. parent cards and warm-up",
            (
                f"{d.phase.per_text_with_parents:.3f} ({d.phase.all_calls} calls / "
                f"{d.phase.all_texts} texts, {d.phase.parent_posts} parents)"
                for d in results
            ),
        )
    )
    rows.append(_row("refused Slack calls", (str(d.phase.refused_calls) for d in results)))
    rows.append(
        _row(
            "webhook answered 200 in this phase",
            (_pcts(d.phase.webhook.from_send) if d.phase.webhook else "-" for d in results),
        )
    )
    rows.append(
        _row(
            "bridge CPU per text (first steady text until no job left, net of idle CPU)",
            (
                f"{d.phase.work_cpu / d.phase.texts * 1000:.2f} ms" if d.phase.texts else "-"
                for d in results
            ),
        )
    )
    rows.append(_row("drafts by outcome (whole phase)", (_outcomes(d) for d in results)))
    rows.append(_row("engine time per draft, mean", (_engine_ms(d) for d in results)))
    rows.append(
        _row(
            "outbox jobs retried (whole phase)",
            (", ".join(f"{k} {n:.0f}" for k, n in d.retries.items()) or "0" for d in results),
        )
    )
    rows.append(
        _row(
            "Anthropic requests (whole phase)",
            (str(d.anthropic_requests) if d.anthropic_requests else "-" for d in results),
        )
    )
    return rows


def report(
    results: Sequence[ModeFigures],
    ceiling: LoadFigures | None,
    plan: Plan,
    *,
    command: str,
    load_before: str,
    workers: int | None,
    out: Callable[[str], None],
) -> None:
    facts = machine_facts() | {"product": str(Path(bridge_package.__file__).parent.parent)}
    out(f"### Inbound with AI drafts — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    out("")
    out(f"command: `{command}`")
    out("machine: " + ", ".join(f"{k} {v}" for k, v in facts.items()))
    out(f"load average before / after the run: {load_before} / {loadavg()}")
    out(f"BRIDGE_WORKERS: {workers if workers is not None else 'default (8)'}")
    if ceiling is not None:
        out(
            f"ceiling (bare aiohttp, generator-bound): {ceiling.throughput.rate:,.0f} webhooks/s; "
            f"p99 {ms(percentile(ceiling.latency.from_schedule, 99))} at {plan.latency_rate:g}/s"
        )
    out("")
    out("| figure | " + " | ".join(f"{r.mode.name}: {r.mode.about}" for r in results) + " |")
    out("| --- |" + " --- |" * len(results))
    loads = [r for r in results if r.load is not None]
    if loads:

        def load_cell(r: ModeFigures, cell: Callable[[BridgeFigures], str]) -> str:
            return cell(r.load) if r.load is not None else "not run"

        out(_row("**webhooks**", ["" for _ in results]))
        out(
            _row(
                f"webhooks/s with 200, {plan.concurrency} concurrent, "
                f"{plan.throughput_seconds:g} s",
                (load_cell(r, lambda b: f"**{b.throughput.rate:,.0f}**") for r in results),
            )
        )
        out(
            _row(
                "slowest / fastest whole second; non-200",
                (
                    load_cell(
                        r,
                        lambda b: (
                            f"{min(b.throughput.per_second):,} / "
                            f"{max(b.throughput.per_second):,}; {b.throughput.failed}"
                        ),
                    )
                    for r in results
                ),
            )
        )
        out(
            _row(
                "CPU in the throughput run",
                (load_cell(r, lambda b: b.throughput_cpu.describe()) for r in results),
            )
        )
        out(
            _row(
                f"latency to 200 at {plan.latency_rate:g}/s, from the scheduled send",
                (load_cell(r, lambda b: _pcts(b.latency.from_schedule)) for r in results),
            )
        )
        out(
            _row(
                f"answered 200 / sent at {plan.latency_rate:g}/s",
                (load_cell(r, lambda b: f"{b.latency.ok:,} / {b.latency.sent:,}") for r in results),
            )
        )
        out(
            _row(
                f"CPU at {plan.latency_rate:g}/s",
                (load_cell(r, lambda b: b.latency_cpu.describe()) for r in results),
            )
        )
        out(
            _row(
                "Slack posts still queued after the throughput run",
                (load_cell(r, lambda b: f"{b.backlog:,}") for r in results),
            )
        )
    for title, pick in (
        ("SMS→Slack, default Slack pacing (1 post/s per channel, burst 4)", lambda r: r.paced),
        ("SMS→Slack, BRIDGE_SLACK_POST_RATE=200 BURST=50", lambda r: r.fast),
    ):
        for line in _phase_rows(title, [pick(r) for r in results]):
            out(line)
    if any(r.capacity for r in results):

        def cap_cell(r: ModeFigures, cell: Callable[[Capacity], str]) -> str:
            return cell(r.capacity) if r.capacity is not None else "not run"

        out(_row("**a burst, Slack pacing out of the way**", ["" for _ in results]))
        out(
            _row(
                "texts into Slack per second (first webhook → last text visible)",
                (
                    cap_cell(
                        r,
                        lambda c: (
                            f"**{c.rate:,.0f}** ({c.delivered}/{c.texts} in "
                            f"{c.done_in:.2f} s; webhooks answered in {c.loaded_in:.2f} s)"
                        ),
                    )
                    for r in results
                ),
            )
        )
        out(
            _row(
                "bridge CPU per text, until no job left",
                (
                    cap_cell(r, lambda c: f"{c.cpu_until_idle / c.texts * 1000:.2f} ms")
                    for r in results
                ),
            )
        )
        out(
            _row("CPU during the burst", (cap_cell(r, lambda c: c.cpu.describe()) for r in results))
        )
    out(
        _row(
            "bridge RSS: peak VmRSS sampled / VmHWM, all phases",
            (f"{r.peak_rss_mb:.0f} MiB / {r.hwm_mb:.0f} MiB" for r in results),
        )
    )
    out("")
    out("| target | " + " | ".join(r.mode.name for r in results) + " |")
    out("| --- |" + " --- |" * len(results))
    out(
        _row(
            f"≤ {TARGET_CALLS} Slack calls per text, steady (RATE=200 phase)",
            (
                f"{r.fast.phase.per_text:.3f}: "
                + ("met" if r.fast.phase.per_text <= TARGET_CALLS else "NOT met")
                for r in results
            ),
        )
    )
    out(
        _row(
            f"every text visible within the wait + {OVERHEAD * 1000:.0f} ms (RATE=200 phase)",
            (
                (
                    f"max {ms(max(r.fast.text_latency))} vs {r.mode.wait:g} s: "
                    + ("met" if r.fast.over_wait == 0 else f"NOT met ({r.fast.over_wait} later)")
                )
                if r.mode.ai and r.fast.text_latency
                else "-"
                for r in results
            ),
        )
    )


async def main() -> None:
    parser = bench_parser(__doc__)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument(
        "--drafts",
        default="off,offline",
        metavar="MODE[,MODE...]",
        help=f"modes to run, in order: {', '.join(MODES)} (default: off,offline)",
    )
    parser.add_argument(
        "--rate",
        type=float,
        metavar="TEXTS_PER_S",
        help="texts/s in the RATE=200 phase instead of the mode's own (100, 100, 10, 4)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="BRIDGE_WORKERS for every bridge (default: the bridge's default, 8)",
    )
    args = parser.parse_args()
    names = [name.strip() for name in args.drafts.split(",") if name.strip()]
    unknown = [name for name in names if name not in MODES]
    if unknown or not names:
        parser.error(f"--drafts: unknown mode {', '.join(unknown)}; choose from {', '.join(MODES)}")
    modes = [MODES[name] for name in names]
    plan = QUICK if args.quick else Plan.full()
    command = " ".join([".venv/bin/python", "bench/ai_inbound.py", *sys.argv[1:]])

    load_before = await settle(args.wait_quiet)
    results: list[ModeFigures] = []
    with tempfile.TemporaryDirectory(prefix="bench-ai-inbound-") as tmp:
        workdir = Path(tmp)
        sandbox = Sandbox(workdir, texts=texts())
        anthropic = AnthropicEmulator()
        await sandbox.start()
        await anthropic.start()
        ceiling = None
        try:
            ceiling_rate = 0.0
            if any(mode.load for mode in modes):
                progress("ceiling: throughput and fixed rate")
                ceiling = await ceiling_phase(sandbox, plan)
                ceiling_rate = ceiling.throughput.rate
            for mode in modes:
                results.append(
                    await run_mode(
                        mode,
                        sandbox,
                        anthropic,
                        plan,
                        ceiling_rate=ceiling_rate,
                        config=business_config(mode, workdir),
                        workers=args.workers,
                        rate=args.rate,
                    )
                )
        finally:
            await anthropic.stop()
            await sandbox.stop()
    report(
        results,
        ceiling,
        plan,
        command=command,
        load_before=load_before,
        workers=args.workers,
        out=out,
    )


if __name__ == "__main__":
    asyncio.run(main())
