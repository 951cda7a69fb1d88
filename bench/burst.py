"""Burst benchmark: many texts from new numbers at once, against Slack's posting limit.

    .venv/bin/python bench/burst.py [--quick] [--wait-quiet SECONDS]

The real `sms-bridge serve` process (SQLite, its default pacing: about one post a second
per channel) between the Slack and Twilio emulators of this process. The Slack emulator
answers 429 past Slack's limits: chat.postMessage one a second per channel, chat.update
and reactions Tier 3 (50 a minute), conversations.history one a minute. Each case sends
its texts within about 2 seconds (each number's in order, the numbers at once) to a
fresh bridge, and waits until every text shows in Slack.

Figures per case: the posts used (chat.postMessage calls Slack took), Slack's 429s, and
the time from the last webhook's 200 until every text is visible. `--quick` runs only
the 100-text case.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from common import _send, bench_parser, machine_facts, new_session, out, progress, settle
from inbound import Sandbox, tags_in

from bridge.sandbox.slack_emulator import SlackEmulator
from bridge.sandbox.wiring import INBOX

WITHIN = 600.0  # seconds: the longest a case waits for its texts to show


@dataclass(frozen=True)
class Case:
    texts: int
    numbers: int
    target_seconds: float
    target_posts: int


CASES = (Case(100, 10, 30, 25), Case(1000, 100, 150, 220))


def emulate_slacks_limits(slack: SlackEmulator) -> None:
    slack.rate_limit("chat.postMessage", per_second=1, per_channel=True)
    for method in ("chat.update", "reactions.add", "reactions.remove"):
        slack.rate_limit(method, per_second=50 / 60)
    slack.rate_limit("conversations.history", per_second=1 / 60)


class Visible:
    """The tags of every text that shows in the inbox (in a parent card or a thread),
    each message read again only when it changed: the emulator's own process, whose
    clock Slack's limits run on, stays as idle as it can."""

    def __init__(self, slack: SlackEmulator) -> None:
        self._slack = slack
        self._read: dict[str, tuple[int, set[int]]] = {}  # ts → (its blocks' id, tags)

    def __call__(self) -> set[int]:
        seen: set[int] = set()
        for parent in self._slack.messages(INBOX):
            for message in (parent, *self._slack.replies(INBOX, parent.ts)):
                if not message.bot_id:
                    continue
                known = self._read.get(message.ts)
                if known is None or known[0] != id(message.blocks):
                    shown = json.dumps(message.blocks) if message.blocks else message.text
                    known = self._read[message.ts] = (id(message.blocks), set(tags_in(shown)))
                seen |= known[1]
        return seen


@dataclass
class Figures:
    sent_seconds: float  # the first webhook sent → the last one answered
    visible_after: float | None  # the last 200 → every text in Slack (None: not within WITHIN)
    posts: int
    refused: int  # Slack's 429s
    errors: int  # webhooks not answered 200


async def run_case(sandbox: Sandbox, case: Case) -> Figures:
    slack = sandbox.slack
    slack.calls.clear()
    numbers = [n for n in range(case.numbers) for _ in range(case.texts // case.numbers)]
    batch = sandbox.prepare(numbers)
    by_number: dict[int, list[int]] = {}
    for index, number in enumerate(numbers):
        by_number.setdefault(number, []).append(index)
    async with sandbox.bridge() as (child, _db), new_session(case.numbers) as session:
        url = f"{child.url}/sms/inbound"

        async def texts_of(indexes: Sequence[int]) -> int:
            failed = 0
            for index in indexes:  # one number's texts in order
                failed += await _send(session, url, batch.requests[index]) != 200
            return failed

        started = time.perf_counter()
        errors = sum(await asyncio.gather(*(texts_of(i) for i in by_number.values())))
        answered = time.perf_counter()
        wanted = set(batch.tags)
        visible, visible_after = Visible(slack), None
        while time.perf_counter() - answered < WITHIN:
            if wanted <= visible():
                visible_after = time.perf_counter() - answered
                break
            await asyncio.sleep(0.2)
        calls = [c for c in slack.calls if c.method == "chat.postMessage"]
        return Figures(
            sent_seconds=answered - started,
            visible_after=visible_after,
            posts=sum(1 for c in calls if not c.failed and c.args.get("channel") == INBOX),
            refused=sum(1 for c in slack.calls if c.status == 429),
            errors=errors,
        )


async def main() -> None:
    parser = bench_parser(__doc__.split("\n\n", 1)[0] if __doc__ else None)
    args = parser.parse_args()
    cases = CASES[:1] if args.quick else CASES
    out("# Burst: texts from new numbers at once, Slack's limits emulated")
    for name, value in machine_facts().items():
        out(f"- {name}: {value}")
    out(f"- load average before: {await settle(args.wait_quiet)}")
    with tempfile.TemporaryDirectory(prefix="bench-burst-") as tmp:
        sandbox = Sandbox(Path(tmp))
        emulate_slacks_limits(sandbox.slack)
        await sandbox.start()
        try:
            out("")
            out("| texts / new numbers | sent in | visible after the last 200 | posts | 429s | |")
            out("|---|---|---|---|---|---|")
            for case in cases:
                progress(f"{case.texts} texts from {case.numbers} numbers")
                figures = await run_case(sandbox, case)
                after = (
                    f"{figures.visible_after:.1f} s"
                    if figures.visible_after is not None
                    else f"not all within {WITHIN:.0f} s"
                )
                verdict = (
                    figures.visible_after is not None
                    and figures.visible_after <= case.target_seconds
                    and figures.posts <= case.target_posts
                )
                out(
                    f"| {case.texts} / {case.numbers} | {figures.sent_seconds:.1f} s | {after}"
                    f" (target ≤ {case.target_seconds:.0f} s) | {figures.posts}"
                    f" (target ≤ {case.target_posts}) | {figures.refused} |"
                    f" {'met' if verdict else 'MISSED'}"
                    + (f", {figures.errors} webhooks not 200" if figures.errors else "")
                )
        finally:
            await sandbox.stop()


if __name__ == "__main__":
    asyncio.run(main())
