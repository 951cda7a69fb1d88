"""A campaign's progress message: counts, a text bar, the time left, and the buttons
its state allows; the campaign's name is escaped and the blocks stay in Slack's limits."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bridge.campaigns.models import (
    Audience,
    Campaign,
    CampaignSpec,
    CampaignState,
    Progress,
)
from bridge.slack.blocks.campaign_progress import (
    CANCEL,
    PAUSE,
    RESUME,
    progress_bar,
    progress_message,
    time_left,
)

NOW = datetime(2026, 12, 6, 12, tzinfo=UTC)


def campaign(state: CampaignState = CampaignState.SENDING, **extra: Any) -> Campaign:
    spec = CampaignSpec(
        name="<!channel> flavor *poll*",
        from_number="+15005550006",
        to=Audience(tags=("regulars",)),
        text="Which flavor? Reply A, B or C.",
        send_at=extra.pop("send_at", None),
    )
    return Campaign(id="c1", spec=spec, state=state, created_by="U0ANA", created_at=NOW, **extra)


def buttons(blocks: list[dict[str, Any]]) -> dict[str, str]:
    return {
        element["action_id"]: element["value"]
        for block in blocks
        if block["type"] == "actions"
        for element in block["elements"]
    }


def test_the_bar_and_the_time_left() -> None:
    assert progress_bar(0, 0) == "░" * 20 + " 0%"
    assert progress_bar(50, 100) == "█" * 10 + "░" * 10 + " 50%"
    assert progress_bar(100, 100) == "█" * 20 + " 100%"
    assert time_left(0) == "done soon"
    assert time_left(40) == "about 1 min left"
    assert time_left(3 * 3600 + 60) == "about 3 h 1 min left"


@pytest.mark.parametrize(
    ("state", "shown"),
    [
        (CampaignState.SCHEDULED, {PAUSE, CANCEL}),
        (CampaignState.SENDING, {PAUSE, CANCEL}),
        (CampaignState.PAUSED, {RESUME, CANCEL}),
        (CampaignState.CANCELLED, set()),
        (CampaignState.DONE, set()),
    ],
)
def test_the_buttons_follow_the_state(state: CampaignState, shown: set[str]) -> None:
    _, blocks = progress_message(
        campaign(state, send_at=NOW + timedelta(hours=2)), Progress(total=10), rate=1
    )
    found = buttons(blocks)
    assert set(found) == shown
    assert all(value == "c1" for value in found.values())


def test_the_counts_are_shown_and_the_name_is_escaped() -> None:
    progress = Progress(
        total=1000,
        pending=400,
        queued=40,
        sent=500,
        delivered=480,
        failed=10,
        blocked=5,
        skipped=45,
        opted_out_since=7,
    )
    text, blocks = progress_message(campaign(), progress, rate=10)
    shown = json.dumps(blocks)
    assert "<!channel>" not in shown
    assert "<!channel>" not in text
    assert "&lt;!channel&gt;" in shown
    for figure in ("500", "480", "10", "7", "45", "1,000"):
        assert figure in shown
    assert "about 1 min left" in shown  # 440 left at 10 a second
    assert "56%" in shown  # (500 + 10 + 5 + 45) of 1,000 finished
    assert len(blocks) <= 50


def test_no_time_left_once_it_is_over() -> None:
    _, blocks = progress_message(campaign(CampaignState.DONE), Progress(total=3, sent=3), rate=1)
    assert "left" not in json.dumps(blocks)


def test_a_done_campaign_with_texts_still_queued_can_be_paused_or_cancelled() -> None:
    waiting = Progress(total=3, queued=2, sent=1)  # its texts wait for 08:00, say
    _, blocks = progress_message(campaign(CampaignState.DONE), waiting, rate=1)
    assert set(buttons(blocks)) == {PAUSE, CANCEL}
    _, blocks = progress_message(campaign(CampaignState.DONE), Progress(total=3, sent=3), rate=1)
    assert buttons(blocks) == {}
