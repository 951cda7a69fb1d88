"""A poll's results message: its question's campaign, each option with its count, its
share and a text bar, and whether the poll is still open."""

from __future__ import annotations

from typing import Any

from bridge.campaigns.models import Campaign, Poll, Tally
from bridge.campaigns.poll_results import percent
from bridge.slack.blocks.mrkdwn import counted, escape, slack_time
from bridge.text import clip

BAR_WIDTH = 20


def share_bar(count: int, total: int) -> str:
    """`████████░░░░░░░░░░░░`: one option's share of the answers."""
    filled = round(count / total * BAR_WIDTH) if total else 0
    return "█" * filled + "░" * (BAR_WIDTH - filled)


def option_lines(poll: Poll, tally: Tally) -> list[str]:
    total = tally.total
    return [
        f"`{share_bar(n, total)}` *{escape(letter)}* {escape(clip(label, 80))} — "
        f"{n:,} ({percent(n, total)}%)"
        for letter, label in poll.options.items()
        for n in (tally.counts.get(letter, 0),)
    ]


def window_text(campaign: Campaign) -> str:
    if campaign.closed:
        return "*closed* — final results"
    if campaign.closes_at is not None:
        return f"open until {slack_time(campaign.closes_at)}"
    return "open"


def results_message(
    campaign: Campaign, poll: Poll, tally: Tally
) -> tuple[str, list[dict[str, Any]]]:
    """(fallback text, blocks). Nothing in it changes unless the tally or the window does."""
    name = escape(clip(campaign.spec.name, 200))
    head = f":bar_chart: *{name}* (`{campaign.id}`) — poll results, {window_text(campaign)}"
    lines = [head, *option_lines(poll, tally), counted(tally.total, "answer")]
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)}}
    ]
    fallback = f"Poll {name}: {counted(tally.total, 'answer')}"
    return fallback, blocks
