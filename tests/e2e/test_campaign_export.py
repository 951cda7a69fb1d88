"""`sms-bridge campaign export ID [FILE.csv]`, the real binary: one row per counted
answer, which add up to the poll's tally."""

from __future__ import annotations

import asyncio
import csv
import io
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bridge.campaigns.models import Answer, Audience, Campaign, CampaignSpec, CampaignState, Poll
from bridge.store.sqlite import SQLiteStore
from tests.e2e.cli_run import one_line_failure, run
from tests.support import BUSINESS

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
VOTES = ["A", "b", "mango", "C", "2", "A"]  # what six subscribers wrote
CHOICES = ["A", "B", "A", "C", "B", "A"]


async def seed(db: Path) -> SQLiteStore:
    store = SQLiteStore(db)
    await store.open()
    subscribers = [f"+1415555{i:04d}" for i in range(len(VOTES))]
    spec = CampaignSpec(
        name="Flavor poll",
        from_number=BUSINESS,
        to=Audience(numbers=tuple(subscribers)),
        text="Reply A for Mango, B for Strawberry, C for Vanilla",
        poll=Poll(options={"A": "Mango", "B": "Strawberry", "C": "Vanilla"}),
    )
    campaign = Campaign(
        id="flavors", spec=spec, state=CampaignState.DONE, created_by="cli", created_at=T0
    )
    await store.create_campaign(campaign, subscribers)
    for i, (subscriber, text, choice) in enumerate(zip(subscribers, VOTES, CHOICES, strict=True)):
        at = T0 + timedelta(minutes=i)
        await store.record_answer(
            Answer(
                campaign_id="flavors",
                subscriber=subscriber,
                choice=choice,
                text=text,
                sid=f"SM{i}",
                at=at,
            )
        )
    # A second vote of the first subscriber replaces the first: still one row.
    await store.record_answer(
        Answer(
            campaign_id="flavors",
            subscriber=subscribers[0],
            choice="C",
            text="actually c",
            sid="SM9",
            at=T0 + timedelta(hours=1),
        )
    )
    return store


async def test_the_csv_has_one_row_per_counted_answer_matching_the_tally(tmp_path: Path) -> None:
    db = tmp_path / "b.db"
    store = await seed(db)
    try:
        tally = await store.tally("flavors")
    finally:
        await store.close()
    env = {"BRIDGE_DB_PATH": str(db)}
    out = tmp_path / "flavors.csv"
    written = await asyncio.to_thread(
        run, ["campaign", "export", "flavors", str(out)], env, tmp_path
    )
    assert written.returncode == 0, written.stderr
    assert "6 answers" in written.stdout
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert list(rows[0]) == ["subscriber", "choice", "label", "text", "at"]
    assert len(rows) == tally.total == 6
    assert Counter(row["choice"] for row in rows) == tally.counts
    labels = {"A": "Mango", "B": "Strawberry", "C": "Vanilla"}
    assert all(row["label"] == labels[row["choice"]] for row in rows)
    last = rows[-1]
    assert (last["subscriber"], last["choice"], last["text"]) == ("+14155550000", "C", "actually c")
    assert datetime.fromisoformat(last["at"]) == T0 + timedelta(hours=1)
    # Without a file: the same CSV on standard output.
    shown = await asyncio.to_thread(run, ["campaign", "export", "flavors"], env, tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert list(csv.DictReader(io.StringIO(shown.stdout))) == rows


def test_an_unknown_campaign_is_one_line_naming_it(tmp_path: Path) -> None:
    line = one_line_failure(
        run(["campaign", "export", "nope"], {"BRIDGE_DB_PATH": str(tmp_path / "b.db")}, tmp_path)
    )
    assert "nope" in line
