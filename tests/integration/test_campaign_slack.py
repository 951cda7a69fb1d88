"""Campaigns in Slack, the whole bridge against the emulators (real Bolt and slack_sdk):
the progress message and its buttons, `/sms campaign …`, the dialog with its live
preview, and App Home's Campaigns tab."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from bridge.campaigns.models import Audience, Campaign, CampaignSpec, CampaignState
from bridge.jobs import campaign_progress_job
from bridge.models import utcnow
from bridge.sandbox.slack_emulator import SlackEmulator
from bridge.store.sqlite import SQLiteStore
from tests.support import (
    AGENT,
    BUSINESS,
    INBOX,
    BridgeUnderTest,
    eventually,
    eventually_async,
    slash,
)

OUTSIDER = "U0OUT"
PEOPLE = [f"+1415555{n:04d}" for n in range(100, 105)]


@pytest.fixture
def store(tmp_path: Path) -> SQLiteStore:
    """The bridge's own store, also read by the tests (the bridge opens and closes it)."""
    return SQLiteStore(tmp_path / "campaigns.db")


@pytest.fixture
def bridge_store(store: SQLiteStore) -> SQLiteStore:
    return store


@pytest.fixture(autouse=True)
def team(slack: SlackEmulator) -> None:
    slack.add_user(AGENT, "ana", "Ana Ruiz", display_name="Ana")
    slack.add_user(OUTSIDER, "olly", "Olly Out")
    slack.join(INBOX, AGENT)


async def scheduled(store: SQLiteStore, campaign_id: str = "c1") -> None:
    """A campaign due tomorrow: its progress message is up, nothing is texted."""
    spec = CampaignSpec(
        name="<!here> flavor poll",
        from_number=BUSINESS,
        to=Audience(tags=("regulars",)),
        text="Hi",
        send_at=utcnow() + timedelta(days=1),
    )
    campaign = Campaign(
        id=campaign_id,
        spec=spec,
        state=CampaignState.SCHEDULED,
        created_by=AGENT,
        created_at=utcnow(),
    )
    assert await store.create_campaign(
        campaign, PEOPLE, jobs=[(campaign_progress_job(campaign_id), utcnow())]
    )


async def progress_message(slack: SlackEmulator, store: SQLiteStore) -> str:
    await eventually(
        lambda: any("campaign_pause" in json.dumps(m.blocks) for m in slack.messages(INBOX))
    )

    async def recorded() -> bool:  # the ts is stored just after the post
        campaign = await store.get_campaign("c1")
        return campaign is not None and campaign.progress_ts is not None

    await eventually_async(recorded)
    campaign = await store.get_campaign("c1")
    assert campaign is not None
    assert campaign.progress_ts is not None
    return campaign.progress_ts


def buttons(slack: SlackEmulator, ts: str) -> set[str]:
    message = slack.message(INBOX, ts)
    assert message is not None
    return {
        element["action_id"]
        for block in message.blocks or []
        if block["type"] == "actions"
        for element in block["elements"]
    }


async def click(
    bridge: BridgeUnderTest, slack: SlackEmulator, user: str, action_id: str, ts: str
) -> None:
    payload = slack.block_action(user, action_id, "c1", channel=INBOX, message_ts=ts)
    response = await slack.deliver(f"{bridge.url}/slack/events", payload, kind="interactive")
    assert response.status == 200


async def state(store: SQLiteStore) -> CampaignState:
    campaign = await store.get_campaign("c1")
    assert campaign is not None
    return campaign.state


def ephemeral_answers(slack: SlackEmulator) -> list[str]:
    return [
        str(r.get("text", "")) for r in slack.responses if r.get("response_type") == "ephemeral"
    ]


async def test_the_buttons_pause_resume_and_cancel_for_members_only(
    bridge: BridgeUnderTest, slack: SlackEmulator, store: SQLiteStore
) -> None:
    await scheduled(store)
    ts = await progress_message(slack, store)
    assert buttons(slack, ts) == {"campaign_pause", "campaign_cancel"}
    assert "<!here>" not in json.dumps(slack.message(INBOX, ts).blocks)  # type: ignore[union-attr]

    await click(bridge, slack, OUTSIDER, "campaign_pause", ts)
    await eventually(lambda: len(ephemeral_answers(slack)) == 1)
    assert await state(store) is CampaignState.SCHEDULED

    await click(bridge, slack, AGENT, "campaign_pause", ts)
    await eventually(lambda: buttons(slack, ts) == {"campaign_resume", "campaign_cancel"})
    assert await state(store) is CampaignState.PAUSED

    await click(bridge, slack, AGENT, "campaign_resume", ts)
    await eventually(lambda: buttons(slack, ts) == {"campaign_pause", "campaign_cancel"}, within=20)
    await click(bridge, slack, AGENT, "campaign_cancel", ts)
    await eventually(lambda: buttons(slack, ts) == set(), within=20)
    assert await state(store) is CampaignState.CANCELLED

    # A stale button: told to the clicker alone, nothing changes.
    await click(bridge, slack, AGENT, "campaign_resume", ts)
    await eventually(lambda: len(ephemeral_answers(slack)) == 2)
    assert await state(store) is CampaignState.CANCELLED
    assert [m.ts for m in slack.messages(INBOX)] == [ts]  # one message, kept current


async def test_sms_campaign_list_pause_resume_cancel(
    bridge: BridgeUnderTest, slack: SlackEmulator, store: SQLiteStore
) -> None:
    await scheduled(store)
    listed = await slash(bridge, slack, "campaign list")
    assert "c1" in listed.text
    assert "&lt;!here&gt;" in listed.text
    assert "c1" in (await slash(bridge, slack, "campaign pause c1")).text
    assert await state(store) is CampaignState.PAUSED
    refused = await slash(bridge, slack, "campaign pause c1")
    assert await state(store) is CampaignState.PAUSED
    assert refused.text != ""
    await slash(bridge, slack, "campaign resume c1")
    assert await state(store) is CampaignState.SCHEDULED
    await slash(bridge, slack, "campaign cancel c1")
    assert await state(store) is CampaignState.CANCELLED
    assert "c9" in (await slash(bridge, slack, "campaign cancel c9")).text
    assert await state(store) is CampaignState.CANCELLED
    outsider = await slash(bridge, slack, "campaign cancel c1", user=OUTSIDER)
    assert "members" in outsider.text


def home_text(slack: SlackEmulator, user: str) -> str:
    return json.dumps(slack.home_views.get(user, {}).get("blocks", []))


async def test_app_home_switches_to_the_campaigns_tab_and_remembers_it(
    bridge: BridgeUnderTest, slack: SlackEmulator, store: SQLiteStore
) -> None:
    await scheduled(store)
    url = f"{bridge.url}/slack/events"
    opened = {"type": "app_home_opened", "user": AGENT, "tab": "home", "event_ts": "1.0"}
    await slack.deliver(url, opened)
    await eventually(lambda: "home_tab" in home_text(slack, AGENT))
    assert "SMS inbox" in home_text(slack, AGENT)

    switch = slack.block_action(AGENT, "home_tab", "campaigns", channel=INBOX)
    await slack.deliver(url, switch, kind="interactive")
    await eventually(lambda: "SMS campaigns" in home_text(slack, AGENT))
    assert "flavor poll" in home_text(slack, AGENT)
    assert "scheduled" in home_text(slack, AGENT)
    assert await store.home_viewers() == {AGENT: "campaigns"}

    # An outsider's switch does nothing; reopened, the tab is the one last chosen.
    outsider = slack.block_action(OUTSIDER, "home_tab", "campaigns", channel=INBOX)
    await slack.deliver(url, outsider, kind="interactive")
    published = len(slack.calls_to("views.publish"))
    await slack.deliver(url, {**opened, "event_ts": "2.0"})
    await eventually(lambda: len(slack.calls_to("views.publish")) > published)
    assert "SMS campaigns" in home_text(slack, AGENT)
    assert OUTSIDER not in slack.home_views

    back = slack.block_action(AGENT, "home_tab", "inbox", channel=INBOX)
    await slack.deliver(url, back, kind="interactive")
    await eventually(lambda: "SMS inbox" in home_text(slack, AGENT))
