"""`sms-bridge campaign …` as an operator runs it: the plan, a dry run that stores
nothing, a file refused in one line, and a campaign started, listed, paused, resumed,
cancelled and watched (no bridge is running: the commands only talk to the store)."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from bridge.sandbox.wiring import BUSINESS
from bridge.store.sqlite import SQLiteStore
from tests.campaign_support import Base
from tests.e2e.cli_run import minimal_env, one_line_failure, run
from tests.support import bounded

CAMPAIGN = """
name: spring
to: {tags: [regulars]}
text: "Hi {first_name}, our spring menu is out."
"""


async def seeded(tmp_path: Path) -> dict[str, str]:
    env = minimal_env(tmp_path) | {"BRIDGE_SMS_RATE": "10", "TWILIO_FROM_NUMBER": BUSINESS}
    store = SQLiteStore(env["BRIDGE_DB_PATH"])
    await store.open()
    try:
        await Base(BUSINESS, size=20, opted_out=4, no_marketing=2).store_in(store)
    finally:
        await bounded(store.close())
    (tmp_path / "spring.yml").write_text(CAMPAIGN, encoding="utf-8")
    return env


async def test_a_dry_run_prints_the_plan_and_stores_nothing(tmp_path: Path) -> None:
    env = await seeded(tmp_path)

    result = await asyncio.to_thread(
        run, ["campaign", "send", "spring.yml", "--dry-run"], env, tmp_path
    )

    assert result.returncode == 0, result.stderr
    assert "Recipients: 14 of 20 (not sent: 2 no marketing consent, 4 opted out)" in result.stdout
    assert "GSM-7" in result.stdout
    assert "Estimated duration: 1 s at 10 texts/s" in result.stdout
    assert "Hi Pat2, our spring menu is out." in result.stdout
    listed = await asyncio.to_thread(run, ["campaign", "list"], env, tmp_path)
    assert listed.stdout.strip() == ""


async def test_a_file_that_cannot_go_out_is_refused_in_one_line(tmp_path: Path) -> None:
    env = await seeded(tmp_path)
    (tmp_path / "bad.yml").write_text(CAMPAIGN.replace("first_name", "nickname"))

    result = await asyncio.to_thread(run, ["campaign", "send", "bad.yml", "--yes"], env, tmp_path)

    assert "bad.yml: text: unknown placeholder {nickname}" in one_line_failure(result)


async def test_a_campaign_is_started_listed_paused_resumed_and_cancelled(
    tmp_path: Path,
) -> None:
    env = await seeded(tmp_path)

    def cli(*args: str) -> str:
        result = run(list(args), env, tmp_path)
        assert result.returncode == 0, result.stderr
        return result.stdout

    started = await asyncio.to_thread(cli, "campaign", "send", "spring.yml", "--yes")
    found = re.search(r"campaign (\w+) started", started)
    assert found is not None, started
    campaign_id = found.group(1)

    listed = await asyncio.to_thread(cli, "campaign", "list")
    assert re.search(rf"{campaign_id}\s+scheduled\s+0/20\s+.*spring", listed), listed
    assert "is paused" in await asyncio.to_thread(cli, "campaign", "pause", campaign_id)
    assert "is scheduled" in await asyncio.to_thread(cli, "campaign", "resume", campaign_id)
    assert "is cancelled" in await asyncio.to_thread(cli, "campaign", "cancel", campaign_id)
    assert "is cancelled" in await asyncio.to_thread(cli, "campaign", "watch", campaign_id)
    again = await asyncio.to_thread(run, ["campaign", "resume", campaign_id], env, tmp_path)
    assert "cancelled" in one_line_failure(again)
