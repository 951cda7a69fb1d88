"""A campaign started with `sms-bridge campaign send` and sent by the real `serve`
process, killed (SIGKILL) mid-way and started again: every recipient gets exactly
one text."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from bridge.campaigns.models import CampaignState
from bridge.sandbox.slack_emulator import SlackEmulator
from bridge.sandbox.twilio_emulator import TwilioEmulator
from bridge.sandbox.wiring import BUSINESS
from bridge.store.sqlite import SQLiteStore
from tests.campaign_support import Base, daytime_zone
from tests.e2e.cli_run import run
from tests.e2e.conftest import ServeProcess
from tests.support import bounded, eventually, eventually_async, parents

RECIPIENTS = 150
CAMPAIGN = """
name: restart-proof
kind: marketing
to: {segment: everyone}
text: "Hi {first_name}, our spring menu is out."
"""


def config(tmp_path: Path) -> Path:
    path = tmp_path / "bridge.yml"
    path.write_text(
        f"business: {{name: Harbor Bakery, timezone: {daytime_zone()}}}\n"
        "campaigns: {segments: {everyone: {tags: [regulars]}}}\n",
        encoding="utf-8",
    )
    return path


# The second process waits out the minute a killed send may still be in Twilio's hands.
@pytest.mark.timeout(300)
async def test_a_campaign_survives_sigkill_with_no_text_sent_twice(
    serve: Callable[..., ServeProcess],
    slack: SlackEmulator,
    twilio: TwilioEmulator,
    tmp_path: Path,
) -> None:
    base = Base(BUSINESS, size=RECIPIENTS, opted_out=0, no_marketing=0, prefix="+1800555")
    store = SQLiteStore(tmp_path / "bridge.db")
    await store.open()
    try:
        await base.store_in(store)
        first = serve(BRIDGE_SMS_RATE="40", BRIDGE_CONFIG=str(config(tmp_path)))
        (tmp_path / "spring.yml").write_text(CAMPAIGN, encoding="utf-8")

        sent = run(["campaign", "send", "spring.yml", "--yes"], first.env, tmp_path, timeout=60)
        assert sent.returncode == 0, sent.stderr
        found = re.search(r"campaign (\w+) started", sent.stdout)
        assert found is not None, sent.stdout
        campaign_id = found.group(1)
        assert f"Recipients: {RECIPIENTS} of {RECIPIENTS}" in sent.stdout

        await first.start()
        await eventually(lambda: len(twilio.sent) >= RECIPIENTS // 3, within=60)
        await first.kill()  # SIGKILL: sends in flight, leases held, nothing flushed
        assert len(twilio.sent) < RECIPIENTS

        second = serve(BRIDGE_SMS_RATE="40", BRIDGE_CONFIG=str(config(tmp_path)))
        await second.start()

        async def done() -> bool:
            campaign = await store.get_campaign(campaign_id)
            progress = await store.campaign_progress(campaign_id)
            return (
                campaign is not None
                and campaign.state is CampaignState.DONE
                and progress.sent == RECIPIENTS
            )

        await eventually_async(done, within=120)
        per_number = Counter(message.to for message in twilio.sent)
        assert per_number == dict.fromkeys(base.phones, 1)
        assert parents(slack) == []
    finally:
        await bounded(store.close())
