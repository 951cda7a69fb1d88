"""The chaos soak's short plan (bench/chaos.py, about 60 s): three processes behind
HAProxy under kills, Slack and Twilio storms and a busy SQLite file."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.chaos import Plan, soak
from bridge.sandbox.slack_emulator import SlackEmulator
from bridge.sandbox.twilio_emulator import TwilioEmulator

pytestmark = pytest.mark.e2e


# Traffic and faults take about 25 s; the drain is waited for up to 150 s on a busy
# machine before anything still missing counts as lost.
@pytest.mark.timeout(300)
async def test_a_short_soak_loses_doubles_and_reorders_nothing(
    slack: SlackEmulator, twilio: TwilioEmulator, tmp_path: Path
) -> None:
    plan = Plan.short()
    figures = await soak(plan, tmp_path, slack, twilio)
    print("\n".join(figures.lines(plan)))
    outcome = figures.verdict
    assert figures.faults.kills >= 1
    assert figures.ledger.acknowledged_texts > plan.texts // 2
    assert figures.ledger.acknowledged_replies > plan.replies // 2
    assert outcome.texts_lost == 0
    assert outcome.texts_doubled == 0
    assert outcome.posts_doubled_in_window <= figures.faults.kills
    assert outcome.text_order_violations == 0
    assert outcome.threads_split == 0
    assert (outcome.replies_lost, outcome.replies_doubled) == (0, 0)
    assert outcome.reply_order_violations == 0
    # Everything acknowledged got through and no job is left; how fast is the soak's
    # figure to judge (bench/chaos.py), not a busy machine's.
    assert figures.drain_seconds is not None, f"not drained within {plan.drain_wait:.0f} s"
