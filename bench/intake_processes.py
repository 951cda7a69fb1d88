"""Intake with several processes: Twilio webhooks into `sms-bridge serve` with one
process and with `serve --processes N` (N workers on one port and one SQLite file),
in the same run as the bare-aiohttp ceiling.

    .venv/bin/python bench/intake_processes.py [--quick] [--wait-quiet SECONDS]
                                               [--processes 1,2]

Each figure comes from bench/inbound.py's phases: sustained webhooks/s to a durable
200 (closed loop) and latency at 500/s (open loop), each on a fresh bridge and database.
The load generator and the emulators run in this process, on the same cores: the CPU
lines say where the time went (the bridge's processes together, this process, and
everything else on the machine).
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from common import bench_parser, loadavg, machine_facts, ms, out, percentile, progress, settle
from inbound import BridgeFigures, LoadFigures, Plan, Sandbox, bridge_load_phase, ceiling_phase

TARGET_SCALE = 1.4  # issue 16: 2 processes on 2 cores ≥ 1.4 × one process


def _counts(figures: LoadFigures) -> str:
    tp, lat = figures.throughput, figures.latency
    # Per CPU-second of the server's processes: a figure that others' load on the
    # machine moves far less than webhooks per wall-clock second.
    cpu = figures.throughput_cpu.server
    per_cpu = f", {tp.ok / cpu:,.0f} per server CPU-second" if cpu > 0 else ""
    return (
        f"**{tp.rate:,.0f}**/s{per_cpu} (non-200 {tp.failed}) "
        f"| p50 / p99 {ms(percentile(lat.from_schedule, 50))}"
        f" / {ms(percentile(lat.from_schedule, 99))} ({lat.ok:,} of {lat.sent:,} 200)"
    )


def report(
    load_before: str,
    plan: Plan,
    ceiling: LoadFigures,
    bridges: dict[int, BridgeFigures],
    command: str,
) -> None:
    out(f"# Intake with several processes — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    out("")
    out(f"command: `{command}`")
    out("machine: " + ", ".join(f"{k} {v}" for k, v in machine_facts().items()))
    out(f"load average before / after the run: {load_before} / {loadavg()}")
    out("")
    out(
        f"| server | webhooks/s, {plan.concurrency} concurrent, {plan.throughput_seconds:g} s"
        f" | latency at {plan.latency_rate:g}/s from the scheduled send"
        " | CPU in the throughput run |"
    )
    out("| --- | --- | --- | --- |")
    out(f"| ceiling (bare aiohttp) | {_counts(ceiling)} | {ceiling.throughput_cpu.describe()} |")
    one = bridges.get(1)
    for processes, figures in bridges.items():
        scale = (
            f", {figures.throughput.rate / one.throughput.rate:.2f} × one process"
            if one is not None and processes > 1 and one.throughput.rate
            else ""
        )
        out(
            f"| bridge, {processes} process{'es' * (processes > 1)}{scale} "
            f"| {_counts(figures)} | {figures.throughput_cpu.describe()} |"
        )
    if one is not None:
        for processes, figures in bridges.items():
            if processes > 1 and one.throughput.rate:
                ratio = figures.throughput.rate / one.throughput.rate
                met = "met" if ratio >= TARGET_SCALE else "not met"
                out("")
                out(f"{processes} processes: {ratio:.2f} × one (target ≥ {TARGET_SCALE}: {met})")


async def main() -> None:
    parser = bench_parser(__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--processes",
        default="1,2",
        metavar="N,M",
        help="the process counts to measure, comma-separated (each 1 to 8)",
    )
    args = parser.parse_args()
    try:
        counts = [int(n) for n in args.processes.split(",")]
    except ValueError:
        parser.error("--processes: whole numbers, comma-separated, e.g. 1,2")
    if not counts or any(not 1 <= n <= 8 for n in counts):
        parser.error("--processes: each count from 1 to 8")
    plan = Plan.quick() if args.quick else Plan.full()
    command = " ".join([".venv/bin/python", "bench/intake_processes.py", *sys.argv[1:]])

    load_before = await settle(args.wait_quiet)
    with tempfile.TemporaryDirectory(prefix="bench-intake-") as tmp:
        sandbox = Sandbox(Path(tmp))
        await sandbox.start()
        try:
            progress("ceiling: throughput and fixed rate")
            ceiling = await ceiling_phase(sandbox, plan)
            bridges = {}
            for processes in counts:
                progress(f"bridge, {processes} process(es): throughput and fixed rate")
                bridges[processes] = await bridge_load_phase(
                    sandbox, plan, ceiling.throughput.rate, None, processes=processes
                )
        finally:
            await sandbox.stop()
    report(load_before, plan, ceiling, bridges, command)


if __name__ == "__main__":
    asyncio.run(main())
