"""`/sms campaign`: alone, the dialog that creates one (the Slack edge opens it);
`list`, and `pause|resume|cancel|close <id>` through the campaign desk. A change shows on the
campaign's progress message and in App Home."""

from __future__ import annotations

from bridge.campaigns.errors import CampaignError
from bridge.jobs import campaign_progress_job, home_job
from bridge.models import utcnow
from bridge.threading.commands.answers import (
    Answer,
    CampaignList,
    CampaignMove,
    NoSuchCampaign,
    Said,
)
from bridge.threading.commands.grammar import Arg
from bridge.threading.commands.spec import Call, Spec

LISTED = 10


async def _dialog(call: Call) -> Answer:
    return Said.CAMPAIGN_DIALOG if call.services.campaigns else Said.CAMPAIGNS_OFF


async def _list(call: Call) -> Answer:
    store = call.services.store
    campaigns = await store.list_campaigns(limit=LISTED)
    return CampaignList(tuple([(c, await store.campaign_progress(c.id)) for c in campaigns]))


async def _move(call: Call) -> Answer:
    desk, store = call.services.campaigns, call.services.store
    if desk is None:
        return Said.CAMPAIGNS_OFF
    campaign_id = call.command.name or ""
    found = await store.get_campaign(campaign_id)
    if found is None:
        return NoSuchCampaign(campaign_id)
    action = call.command.action.split()[-1]
    move = {
        "pause": desk.pause,
        "resume": desk.resume,
        "cancel": desk.cancel,
        "close": desk.close,
    }[action]
    try:
        moved = await move(campaign_id, by=call.user)
    except CampaignError:  # in no state to: told as it now stands
        return CampaignMove(await store.get_campaign(campaign_id) or found, action, done=False)
    now = utcnow()
    await store.enqueue(campaign_progress_job(campaign_id), run_at=now)
    await store.enqueue(home_job(), run_at=now)
    return CampaignMove(moved, action, done=True)


DIALOG = Spec(
    "campaign",
    "campaign",
    _dialog,
    (),
    "send a campaign, poll or rating request (a dialog with a preview)",
    "campaign",
)
LIST = Spec("campaign list", "campaign list", _list, (), "recent campaigns", "campaign list")
PAUSE = Spec(
    "campaign pause",
    "campaign pause",
    _move,
    (Arg.CAMPAIGN,),
    "pause a campaign",
    "campaign pause k3x9",
)
RESUME = Spec(
    "campaign resume",
    "campaign resume",
    _move,
    (Arg.CAMPAIGN,),
    "resume a paused campaign",
    "campaign resume k3x9",
)
CANCEL = Spec(
    "campaign cancel",
    "campaign cancel",
    _move,
    (Arg.CAMPAIGN,),
    "cancel a campaign: what is not sent yet is not sent",
    "campaign cancel k3x9",
)
CLOSE = Spec(
    "campaign close",
    "campaign close",
    _move,
    (Arg.CAMPAIGN,),
    "stop taking a poll's or rating request's answers now: final results",
    "campaign close k3x9",
)
COMMANDS = (DIALOG, LIST, PAUSE, RESUME, CANCEL, CLOSE)
