"""A campaign's progress message: its state, what became of its texts (sent, delivered,
failed, opted out since, skipped, of the total), a text bar, the time left at the
sender's rate, and the buttons its state allows (value: the campaign's id)."""

from __future__ import annotations

import math
from typing import Any

from bridge.campaigns.models import Campaign, CampaignKind, CampaignState, Progress
from bridge.phones import display
from bridge.slack.blocks.campaign_results import share_bar
from bridge.slack.blocks.mrkdwn import escape, slack_time
from bridge.text import clip

PAUSE = "campaign_pause"
RESUME = "campaign_resume"
CANCEL = "campaign_cancel"

KINDS = {CampaignKind.MARKETING: "marketing", CampaignKind.SUPPORT: "support notice"}
_BUTTONS = {
    CampaignState.SCHEDULED: ((PAUSE, "Pause"), (CANCEL, "Cancel")),
    CampaignState.SENDING: ((PAUSE, "Pause"), (CANCEL, "Cancel")),
    CampaignState.PAUSED: ((RESUME, "Resume"), (CANCEL, "Cancel")),
}


def _buttons(campaign: Campaign, progress: Progress) -> tuple[tuple[str, str], ...]:
    """What its state allows; a DONE campaign whose texts still wait in the sender (paced,
    or for 08:00) can still be paused or cancelled."""
    if campaign.state is CampaignState.DONE and progress.queued:
        return _BUTTONS[CampaignState.SENDING]
    return _BUTTONS.get(campaign.state, ())


def progress_bar(done: int, total: int) -> str:
    """`██████░░░░ 60%`: the share of recipients whose text is settled (rounded down:
    100% only when every one is)."""
    share = math.floor(done * 100 / total) if total else 0
    return f"{share_bar(done, total)} {share}%"


def time_left(seconds: float) -> str:
    minutes = math.ceil(seconds / 60)
    if minutes <= 0:
        return "done soon"
    hours, minutes = divmod(minutes, 60)
    return f"about {f'{hours} h ' if hours else ''}{minutes} min left"


def state_text(campaign: Campaign) -> str:
    match campaign.state:
        case CampaignState.SCHEDULED:
            when = campaign.spec.send_at
            return f"scheduled for {slack_time(when)}" if when else "starting"
        case CampaignState.SENDING:
            return "sending"
        case CampaignState.PAUSED:
            return "paused"
        case CampaignState.CANCELLED:
            return "cancelled"
        case CampaignState.DONE:
            return "done"


def title(campaign: Campaign) -> str:
    """`*flavor-poll* (c1) · marketing from (500) 555-0006`, the name escaped."""
    spec = campaign.spec
    name = escape(clip(spec.name, 200))
    return f"*{name}* (`{campaign.id}`) · {KINDS[spec.kind]} from {display(spec.from_number)}"


def counts_text(progress: Progress) -> str:
    parts = [
        f"sent {progress.sent:,}",
        f"delivered {progress.delivered:,}",
        f"failed {progress.failed:,}",
        f"opted out since {progress.opted_out_since:,}",
        f"skipped {progress.skipped:,}",
    ]
    return " · ".join(parts) + f" — of {progress.total:,}"


def progress_message(
    campaign: Campaign, progress: Progress, *, rate: float
) -> tuple[str, list[dict[str, Any]]]:
    """(fallback text, blocks) of the message; `rate`: the sender's texts a second.
    Nothing in it changes unless the campaign does: an unchanged render is not sent."""
    state = state_text(campaign)
    lines = [
        f":mega: {title(campaign)} — *{state}*",
        f"`{progress_bar(progress.finished, progress.total)}`",
        counts_text(progress),
    ]
    if campaign.state is CampaignState.SENDING:
        lines.append(time_left((progress.pending + progress.queued) / rate))
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)}}
    ]
    buttons = [
        {
            "type": "button",
            "action_id": action_id,
            "text": {"type": "plain_text", "text": label},
            "value": campaign.id,
            **({"style": "danger"} if action_id == CANCEL else {}),
        }
        for action_id, label in _buttons(campaign, progress)
    ]
    if buttons:
        blocks.append({"type": "actions", "block_id": "campaign_progress", "elements": buttons})
    name = escape(clip(campaign.spec.name, 200))
    fallback = f"Campaign {name}: {state}, {progress.sent:,} of {progress.total:,} sent"
    return fallback, blocks
