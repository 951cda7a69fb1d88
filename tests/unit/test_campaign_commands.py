"""`/sms campaign`: alone it opens the dialog; `list`, and `pause|resume|cancel ID`
through the campaign desk, answered with what an agent can fix."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

import pytest

from bridge.campaigns.errors import CampaignError
from bridge.campaigns.models import (
    Audience,
    Campaign,
    CampaignSpec,
    CampaignState,
    Poll,
    Progress,
)
from bridge.config import Business, SlackSection
from bridge.slack.blocks.wording import answer_text
from bridge.threading.command_desk import CommandDesk
from bridge.threading.commands.answers import CampaignList, CampaignMove, NoSuchCampaign, Said
from bridge.threading.commands.grammar import Command, UsageError
from bridge.threading.commands.table import read

NOW = datetime(2026, 12, 6, 12, tzinfo=UTC)
AGENT = "U0ANA"


def campaign(state: CampaignState) -> Campaign:
    spec = CampaignSpec(name="spring", from_number="+15005550006", to=Audience(), text="Hi")
    return Campaign(id="c1", spec=spec, state=state, created_by=AGENT, created_at=NOW)


class Campaigns:
    """The campaign desk and store as far as the commands use them."""

    def __init__(self) -> None:
        self.campaign = campaign(CampaignState.SENDING)
        self.enqueued: list[str] = []
        self.closing = False

    async def get_campaign(self, campaign_id: str) -> Campaign | None:
        return self.campaign if campaign_id == self.campaign.id else None

    async def list_campaigns(self, *, limit: int = 20) -> list[Campaign]:
        return [self.campaign]

    async def campaign_progress(self, campaign_id: str) -> Progress:
        return Progress(total=3, sent=1)

    async def enqueue(self, job: Any, *, run_at: datetime) -> None:
        self.enqueued.append(job.key)

    async def _move(self, to: CampaignState, *sources: CampaignState) -> Campaign:
        if self.campaign.state not in sources:
            raise CampaignError(f"campaign c1 is {self.campaign.state.value}")
        self.campaign = self.campaign.model_copy(update={"state": to})
        return self.campaign

    async def pause(self, campaign_id: str, *, by: str) -> Campaign:
        return await self._move(CampaignState.PAUSED, CampaignState.SENDING)

    async def resume(self, campaign_id: str, *, by: str) -> Campaign:
        return await self._move(CampaignState.SENDING, CampaignState.PAUSED)

    async def cancel(self, campaign_id: str, *, by: str) -> Campaign:
        return await self._move(
            CampaignState.CANCELLED,
            CampaignState.SCHEDULED,
            CampaignState.SENDING,
            CampaignState.PAUSED,
        )

    async def close(self, campaign_id: str, *, by: str) -> Campaign:
        if self.campaign.closed:
            raise CampaignError("campaign c1 is closed already")
        self.closing = True
        return self.campaign


def desk(campaigns: Campaigns) -> CommandDesk:
    nothing = cast(Any, None)
    return CommandDesk(
        cast(Any, campaigns),
        nothing,
        nothing,
        business=Business(),
        slack=SlackSection(),
        business_number=None,
        campaigns=cast(Any, campaigns),
    )


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("campaign", Command(action="campaign")),
        ("campaign list", Command(action="campaign list")),
        ("campaign pause c1", Command(action="campaign pause", name="c1")),
        ("campaign resume c1", Command(action="campaign resume", name="c1")),
        ("campaign cancel Ab-3_x", Command(action="campaign cancel", name="Ab-3_x")),
        ("campaign close c1", Command(action="campaign close", name="c1")),
    ],
)
def test_the_campaign_commands_parse(text: str, command: Command) -> None:
    assert read(text) == command


@pytest.mark.parametrize("text", ["campaign pause", "campaign cancel <@U1>", "campaign now"])
def test_a_wrong_campaign_command_says_what_is_wrong(text: str) -> None:
    with pytest.raises(UsageError):
        read(text)


async def test_alone_it_opens_the_dialog_and_list_shows_the_campaigns() -> None:
    campaigns = Campaigns()
    assert (await desk(campaigns).run(read("campaign"), AGENT)).answer is Said.CAMPAIGN_DIALOG
    listed = (await desk(campaigns).run(read("campaign list"), AGENT)).answer
    assert listed == CampaignList(((campaigns.campaign, Progress(total=3, sent=1)),))


async def test_pause_resume_cancel_act_through_the_desk() -> None:
    campaigns = Campaigns()
    commands = desk(campaigns)
    paused = (await commands.run(read("campaign pause c1"), AGENT)).answer
    assert paused == CampaignMove(campaigns.campaign, "pause", done=True)
    assert campaigns.campaign.state is CampaignState.PAUSED
    assert "campaign-progress:c1" in campaigns.enqueued  # its message shows it
    again = (await commands.run(read("campaign pause c1"), AGENT)).answer
    assert again == CampaignMove(campaigns.campaign, "pause", done=False)
    await commands.run(read("campaign resume c1"), AGENT)
    assert campaigns.campaign.state is CampaignState.SENDING
    await commands.run(read("campaign cancel c1"), AGENT)
    assert campaigns.campaign.state is CampaignState.CANCELLED
    missing = (await commands.run(read("campaign cancel c9"), AGENT)).answer
    assert missing == NoSuchCampaign("c9")


async def test_close_ends_the_answers_through_the_desk_and_says_why_not_when_it_cannot() -> None:
    campaigns = Campaigns()
    closed = (await desk(campaigns).run(read("campaign close c1"), AGENT)).answer
    assert closed == CampaignMove(campaigns.campaign, "close", done=True)
    assert campaigns.closing
    poll = Poll(options={"A": "Rye", "B": "Spelt"})
    spec = campaigns.campaign.spec.model_copy(update={"poll": poll})
    campaigns.campaign = campaigns.campaign.model_copy(update={"closed": True, "spec": spec})
    again = (await desk(campaigns).run(read("campaign close c1"), AGENT)).answer
    assert again == CampaignMove(campaigns.campaign, "close", done=False)
    assert "closed already" in answer_text(again)


def test_the_answers_are_worded_with_the_name_escaped() -> None:
    named = campaign(CampaignState.DONE)
    named = named.model_copy(update={"spec": named.spec.model_copy(update={"name": "<!here>"})})
    texts = [
        answer_text(CampaignList(((named, Progress(total=2, sent=2)),))),
        answer_text(CampaignMove(named, "pause", done=False)),
        answer_text(CampaignMove(named, "cancel", done=True)),
        answer_text(NoSuchCampaign("c9")),
        answer_text(CampaignList(())),
    ]
    assert all(text for text in texts)
    assert not any("<!here>" in text for text in texts)
    assert "&lt;!here&gt;" in texts[1]
