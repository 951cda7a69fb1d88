"""Interactivity under load: how fast the bridge acknowledges what people do in Slack
while texts pour in.

    .venv/bin/python bench/interactive.py [--rate 1000] [--seconds 10] [--every 0.1]
                                          [--wait-quiet SECONDS]

The real `sms-bridge serve` process (SQLite, Slack's default pacing) takes signed Twilio
webhooks at `--rate` a second, open loop, for `--seconds`. Meanwhile, every `--every`
seconds, an agent does one of three things in turn, each delivered signed by the Slack
emulator as Slack does: `/sms help`, and the Flag and Assign-to-me buttons of a
conversation's card (each a store write, competing with the texts' commits). Slack
gives an app 3 s to acknowledge; the figure is the time from sending each to its 200.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from common import (
    bench_parser,
    loadavg,
    machine_facts,
    new_session,
    open_loop,
    out,
    percentile,
    settle,
)
from inbound import BUSINESS, Sandbox, spread

from bridge.sandbox.wiring import INBOX
from bridge.slack.blocks.header_card import ASSIGN_ME, FLAG

AGENT = "U0BENCH"
SLACK_ACK_LIMIT = 3.0  # seconds: Slack's, for commands and interactions
TARGET_P99 = 0.3  # seconds (issue 16), at 1,000 texts a second


async def card(sandbox: Sandbox, url: str) -> tuple[str, str]:
    """A conversation's card (its ts and conversation id), opened by one text."""
    batch = sandbox.prepare([0])
    async with new_session(1) as session:
        request = batch.requests[0]
        async with session.post(url, data=request.body, headers=request.headers) as answer:
            assert answer.status == 200, answer.status
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for message in sandbox.slack.messages(INBOX):
            for block in message.blocks or []:
                if block.get("block_id") == "header_actions":
                    return str(message.ts), str(block["elements"][0]["value"])
        await asyncio.sleep(0.05)
    raise SystemExit("no conversation card was posted within 30 s")


async def interact(
    sandbox: Sandbox, events_url: str, ts: str, conversation: str, *, every: float, until: float
) -> tuple[list[float], dict[str, int]]:
    """One interaction every `every` seconds until `until` (perf_counter), not waiting
    for the previous one's answer: the acknowledgement times, and any non-200s."""
    slack = sandbox.slack
    acks: list[float] = []
    failed: dict[str, int] = {}

    async def one(kind: str, payload: dict[str, Any], how: str) -> None:
        sent = time.perf_counter()
        answer = await slack.deliver(events_url, payload, how)  # type: ignore[arg-type]
        if answer.status == 200:
            acks.append(time.perf_counter() - sent)
        else:
            failed[f"{kind} {answer.status}"] = failed.get(f"{kind} {answer.status}", 0) + 1

    tasks: set[asyncio.Task[None]] = set()
    n = 0
    start = time.perf_counter()
    while (now := time.perf_counter()) < until:
        if n % 3 == 0:
            job = one("/sms help", slack.slash_command(AGENT, "help", channel=INBOX), "command")
        else:
            action = FLAG if n % 3 == 1 else ASSIGN_ME
            click = slack.block_action(AGENT, action, conversation, channel=INBOX, message_ts=ts)
            job = one(action, click, "interactive")
        task = asyncio.create_task(job)
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        n += 1
        await asyncio.sleep(max(0.0, start + n * every - now))
    await asyncio.gather(*tasks)
    return acks, failed


async def main() -> None:
    parser = bench_parser(__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--rate", type=float, default=1000.0, help="texts a second")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--every", type=float, default=0.1, help="seconds between interactions")
    args = parser.parse_args()
    command_line = " ".join([".venv/bin/python", "bench/interactive.py", *sys.argv[1:]])
    load_before = await settle(args.wait_quiet)
    with tempfile.TemporaryDirectory(prefix="bench-interactive-") as tmp:
        sandbox = Sandbox(Path(tmp))
        sandbox.slack.add_user(AGENT, "bench", "Bench Agent")
        sandbox.slack.join(INBOX, AGENT)
        await sandbox.start()
        try:
            async with sandbox.bridge() as (child, _db):
                webhooks = f"{child.url}/sms/inbound"
                ts, conversation = await card(sandbox, webhooks)
                texts = sandbox.prepare(spread(int(args.rate * args.seconds)))
                async with new_session(64) as session:
                    until = time.perf_counter() + args.seconds
                    load, (acks, failed) = await asyncio.gather(
                        open_loop(
                            session,
                            webhooks,
                            texts.requests,
                            rate=args.rate,
                            duration=args.seconds,
                        ),
                        interact(
                            sandbox,
                            f"{child.url}/slack/events",
                            ts,
                            conversation,
                            every=args.every,
                            until=until,
                        ),
                    )
        finally:
            await sandbox.stop()

    done = load.ok / load.elapsed if load.elapsed else 0.0
    out(f"# Interactivity under load (`{command_line}`)")
    out("")
    facts = ", ".join(f"{name} {value}" for name, value in machine_facts().items())
    out(f"- machine: {facts}; load before {load_before}, after {loadavg()}")
    out(
        f"- texts: {load.sent} offered at {args.rate:g}/s for {args.seconds:g} s to {BUSINESS},"
        f" {load.ok} answered 200 ({done:,.0f}/s), other answers {load.statuses or 'none'};"
        f" webhook p50 / p99 {percentile(load.from_schedule, 50) * 1e3:.0f} /"
        f" {percentile(load.from_schedule, 99) * 1e3:.0f} ms"
    )
    late = sum(1 for a in acks if a > SLACK_ACK_LIMIT)
    out(
        f"- interactions: {len(acks)} acknowledged, {sum(failed.values())} not"
        f" {failed or ''}; later than Slack's 3 s: {late}"
    )
    if acks:
        p99 = percentile(acks, 99)
        met = "met" if p99 <= TARGET_P99 and not failed and not late else "NOT met"
        out(
            f"- acknowledgement p50 / p95 / p99 / max: {percentile(acks, 50) * 1e3:.0f} /"
            f" {percentile(acks, 95) * 1e3:.0f} / {p99 * 1e3:.0f} / {max(acks) * 1e3:.0f} ms"
            f" (target p99 ≤ {TARGET_P99 * 1e3:.0f} ms: {met})"
        )


if __name__ == "__main__":
    asyncio.run(main())
