"""App Home's Campaigns tab: a switch between the inbox and campaigns on both views, and
running and past campaigns with their state, progress and results."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from bridge.campaigns.models import (
    Audience,
    Campaign,
    CampaignSpec,
    CampaignState,
    Feedback,
    Poll,
    Progress,
    Tally,
)
from bridge.models import InboxFilter
from bridge.slack.blocks.campaigns_home import TAB_ACTION, CampaignRow, render_campaigns
from bridge.slack.blocks.home_view import render_home

NOW = datetime(2026, 12, 6, 12, tzinfo=UTC)


def campaign(n: int, state: CampaignState, **flow: Any) -> Campaign:
    spec = CampaignSpec(
        name=f"<@U0EVIL> campaign {n}",
        from_number="+15005550006",
        to=Audience(tags=("regulars",)),
        text="Hello",
        **flow,
    )
    return Campaign(id=f"c{n}", spec=spec, state=state, created_by="cli", created_at=NOW)


def switch(view: dict[str, Any]) -> dict[str, str]:
    """The tab buttons: value → style ('primary' marks the one shown)."""
    for block in view["blocks"]:
        if block.get("block_id") == "home_tabs":
            return {e["value"]: e.get("style", "") for e in block["elements"]}
    return {}


def test_both_views_have_the_switch_with_the_current_tab_marked() -> None:
    inbox = render_home([], InboxFilter.OPEN, {}, {})
    assert switch(inbox) == {"inbox": "primary", "campaigns": ""}
    campaigns = render_campaigns([])
    assert switch(campaigns) == {"inbox": "", "campaigns": "primary"}
    buttons = [b for b in campaigns["blocks"] if b.get("block_id") == "home_tabs"]
    assert all(e["action_id"] == TAB_ACTION for e in buttons[0]["elements"])
    assert "No campaigns yet" in json.dumps(campaigns)


def test_campaigns_show_their_state_progress_and_results() -> None:
    poll = campaign(1, CampaignState.SENDING, poll=Poll(options={"A": "Mango", "B": "Strawberry"}))
    rating = campaign(2, CampaignState.DONE, feedback=Feedback())
    rows = [
        CampaignRow(poll, Progress(total=10, sent=4), Tally(counts={"A": 3, "B": 1}, total=4)),
        CampaignRow(rating, Progress(total=2, sent=2), Tally(counts={"5": 1, "3": 1}, total=2)),
    ]
    shown = json.dumps(render_campaigns(rows))
    assert "<@U0EVIL>" not in shown
    assert "sending" in shown
    assert "done" in shown
    assert "Mango" in shown
    assert "75%" in shown  # 3 of 4 votes
    assert "4.0" in shown  # the average rating
    assert len(render_campaigns(rows * 30)["blocks"]) <= 100
