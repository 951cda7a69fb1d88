"""The offline assistant's start-up time and memory, in a fresh process (issue 17 targets:
start-up <= 1 s, memory with the assistant on <= 150 MB).

    .venv/bin/python bench/ai_footprint.py             # the sample bakery + 500 entries
    .venv/bin/python bench/ai_footprint.py --set dental

Figures (printed, not asserted):
- start-up: from importing the engine to its first draft: the English word list, the
  thesaurus and the index of the knowledge base (`OfflineDrafter.prepare`), as `serve`
  pays it once per knowledge-base version;
- memory: the process's resident set (VmRSS, and its peak VmHWM) with the bridge's web
  app and Slack/Twilio clients imported, before and after the assistant is prepared on the
  base and has drafted every text of the question set.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def rss_mb() -> tuple[float, float]:
    """(VmRSS, VmHWM) of this process in MB."""
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    return (int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024)


async def measure(args: argparse.Namespace) -> None:
    import bridge.app  # noqa: F401  the process `serve` runs, without the assistant yet

    before = rss_mb()
    started = time.perf_counter()
    from bridge.ai.offline import OfflineDrafter

    imported = time.perf_counter() - started
    from bench.ai_eval import DEFAULT_KB, SETS, load_kb, load_questions, synthetic_kb

    kb_path = SETS / args.set / "business.yml" if args.set else DEFAULT_KB
    questions_path = SETS / args.set / "questions.yml" if args.set else None
    base = load_kb(kb_path)
    with tempfile.TemporaryDirectory() as folder:
        kb = synthetic_kb(base, args.entries, Path(folder)) if args.entries > len(base) else base

    started = time.perf_counter()
    engine = OfflineDrafter()
    engine.prepare(kb)
    await engine.draft([("customer", "what time do you open?")], knowledge=kb)
    startup = imported + time.perf_counter() - started

    from bench.ai_eval import DEFAULT_QUESTIONS

    questions = load_questions(questions_path or DEFAULT_QUESTIONS)
    for question in questions:
        await engine.draft(question.conversation(), knowledge=kb)
    after = rss_mb()
    print(f"knowledge base: {len(kb)} entries ({kb_path.relative_to(REPO)})")
    print(
        f"engine start-up (import {imported * 1000:.0f} ms, word list, thesaurus, index, "
        f"first draft): {startup * 1000:.0f} ms"
    )
    print(f"RSS with the bridge imported, assistant off: {before[0]:.0f} MB")
    print(
        f"RSS with the assistant on, after {len(questions)} drafts: {after[0]:.0f} MB "
        f"(peak {after[1]:.0f} MB; the assistant's share {after[0] - before[0]:.0f} MB)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else "")
    parser.add_argument("--set", help="a business of bench/ai_sets/ instead of the bakery")
    parser.add_argument("--entries", type=int, default=500, help="pad the base to this size")
    asyncio.run(measure(parser.parse_args()))


if __name__ == "__main__":
    main()
