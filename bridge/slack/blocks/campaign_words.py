"""`/sms campaign`'s answers in Slack's words (the campaigns' names escaped)."""

from __future__ import annotations

from bridge.campaigns.models import CampaignState
from bridge.slack.blocks.campaign_progress import counts_text, progress_bar, state_text, title
from bridge.slack.blocks.mrkdwn import escape
from bridge.threading.commands.answers import CampaignList, CampaignMove, NoSuchCampaign

CAMPAIGN_DIALOG = "Opening the campaign dialog…"
CAMPAIGNS_OFF = "Campaigns are not run by this bridge process."
_DONE = {"pause": "Paused", "resume": "Resumed", "cancel": "Cancelled", "close": "Closed"}
_AFTER = {
    "pause": " Texts already queued are held until you resume.",
    "resume": "",
    "cancel": " Texts not sent yet will not be.",
    "close": " Later replies are ordinary texts; the final results follow.",
}


def _why_not(answer: CampaignMove) -> str:
    campaign = answer.campaign
    if answer.action == "close":
        spec = campaign.spec
        if spec.poll is None and spec.feedback is None and spec.opt_in is None:
            return "it takes no answers"
        return "its answers are closed already" if campaign.closed else "it has not started"
    if answer.action == "resume":
        return "only a paused campaign can be resumed"
    if campaign.state is CampaignState.PAUSED and answer.action == "pause":
        return "it is paused already"
    return "nothing of it is waiting to be sent"


def campaign_list_text(answer: CampaignList) -> str:
    if not answer.items:
        return "No campaigns yet: `/sms campaign` starts one."
    lines = ["Campaigns, newest first:"]
    for campaign, progress in answer.items:
        lines.append(f"• {title(campaign)} — *{state_text(campaign)}*")
        lines.append(
            f"   `{progress_bar(progress.finished, progress.total)}` {counts_text(progress)}"
        )
    return "\n".join(lines)


def campaign_move_text(answer: CampaignMove) -> str:
    campaign = answer.campaign
    if answer.done:
        return f"{_DONE[answer.action]} {title(campaign)}.{_AFTER[answer.action]}"
    return f"{title(campaign)} is {state_text(campaign)}: {_why_not(answer)}."


def no_such_campaign_text(answer: NoSuchCampaign) -> str:
    return f"No campaign `{answer.campaign_id}`: `/sms campaign list` shows their ids."


def campaign_not_created_text(name: str, problem: str) -> str:
    """Told to the person who submitted the dialog, when what is wrong shows only once
    the audience is read (after the dialog has closed)."""
    return f":warning: Campaign “{escape(name)}” was not created: {escape(problem)}"
