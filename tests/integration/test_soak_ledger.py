"""The soak's judge (bench/cluster.py) tells a text still queued for Slack from one lost:
a late text is stored and waits for the channel's pace; a lost one is nowhere."""

from __future__ import annotations

from pathlib import Path

from bench.cluster import Ledger, subscriber, text_tag, verdict, waiting_texts
from bridge.sandbox.slack_emulator import SlackEmulator
from bridge.sandbox.twilio_emulator import TwilioEmulator
from tests.support import BridgeUnderTest


async def test_a_text_stored_but_not_yet_posted_is_late_not_lost(
    bridge: BridgeUnderTest, slack: SlackEmulator, twilio: TwilioEmulator, db_path: Path
) -> None:
    ledger = Ledger()
    shown = await bridge.text(subscriber(0), text_tag(0, 0))
    assert shown.status == 200
    ledger.texts[0].append(0)
    await bridge.idle()
    # Slack takes no post for now: the text's post waits its turn, as behind a backlog.
    slack.fail_for("chat.postMessage", seconds=120, status=429, retry_after=60)
    queued = await bridge.text(subscriber(0), text_tag(0, 1))
    assert queued.status == 200
    ledger.texts[0].append(1)
    ledger.texts[1].append(0)  # acknowledged to nobody's knowledge: never stored

    assert waiting_texts(db_path) == {0: {1}}
    outcome = verdict(ledger, slack, twilio, waiting=waiting_texts(db_path))
    assert (outcome.texts_lost, outcome.texts_queued) == (1, 1)
    assert not outcome.exactly_once_in_order
    # Judged without the store, the late one counts as lost too.
    assert verdict(ledger, slack, twilio).texts_lost == 2
