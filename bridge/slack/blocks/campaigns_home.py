"""App Home's Campaigns tab: running and past campaigns, newest first, with their
state, progress and results; and the switch between the inbox and this tab, which both
views show at the top."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bridge.campaigns.models import Campaign, Progress, Tally
from bridge.slack.blocks.campaign_progress import counts_text, progress_bar, state_text, title
from bridge.slack.blocks.campaign_results import option_lines
from bridge.slack.blocks.mrkdwn import escape, mention, slack_time

TAB_ACTION = "home_tab"
INBOX_TAB, CAMPAIGNS_TAB = "inbox", "campaigns"
_TABS = {INBOX_TAB: "Inbox", CAMPAIGNS_TAB: "Campaigns"}
MAX_CAMPAIGNS = 30  # three blocks each, within the 100 blocks a Home tab may have


@dataclass(frozen=True)
class CampaignRow:
    campaign: Campaign
    progress: Progress
    tally: Tally | None = None  # its answers, when it asks for any


def tab_switch(current: str) -> dict[str, Any]:
    """The buttons at the top of App Home; the one shown is marked."""
    return {
        "type": "actions",
        "block_id": "home_tabs",
        "elements": [
            {
                "type": "button",
                "action_id": TAB_ACTION,
                "text": {"type": "plain_text", "text": label},
                "value": value,
                **({"style": "primary"} if value == current else {}),
            }
            for value, label in _TABS.items()
        ],
    }


def results_text(campaign: Campaign, tally: Tally | None) -> str | None:
    """Its answers (None: it asks for none); a poll's as its results message has them."""
    spec = campaign.spec
    if not (spec.poll or spec.feedback or spec.opt_in):
        return None
    if tally is None or not tally.total:
        return "No answers yet."
    if spec.poll is not None:
        return "\n".join([f"{tally.total:,} votes:", *option_lines(spec.poll, tally)])
    if spec.feedback is not None:
        rated = {int(k): v for k, v in tally.counts.items() if k.isdigit()}
        average = sum(k * v for k, v in rated.items()) / max(1, sum(rated.values()))
        spread = " · ".join(f"{k}★ {rated.get(k, 0):,}" for k in range(5, 0, -1))
        return f"Rated {average:.1f} on average by {tally.total:,}: {spread}"
    return f"{tally.total:,} opted in."


def _author(campaign: Campaign) -> str:
    by = campaign.created_by
    return mention(by) if by.startswith(("U", "W")) else escape(by)  # a person, or "cli"


def _rows(row: CampaignRow) -> list[dict[str, Any]]:
    campaign, progress = row.campaign, row.progress
    lines = [
        f"{title(campaign)} — *{state_text(campaign)}*",
        f"`{progress_bar(progress.finished, progress.total)}` {counts_text(progress)}",
    ]
    results = results_text(campaign, row.tally)
    if results is not None:
        lines.append(results)
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)}},
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": f"Created {slack_time(campaign.created_at)} by {_author(campaign)}",
                }
            ],
        },
        {"type": "divider"},
    ]


def render_campaigns(rows: list[CampaignRow]) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": "SMS campaigns"}},
        tab_switch(CAMPAIGNS_TAB),
        {"type": "divider"},
    ]
    for row in rows[:MAX_CAMPAIGNS]:
        blocks.extend(_rows(row))
    if not rows:
        text = "_No campaigns yet: `/sms campaign` starts one._"
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text}})
    return {"type": "home", "blocks": blocks}
