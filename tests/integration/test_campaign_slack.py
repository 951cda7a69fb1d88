"""Campaigns in Slack, the whole bridge against the emulators (real Bolt and slack_sdk):
the progress message and its buttons, `/sms campaign …`, the dialog with its live
preview, and App Home's Campaigns tab."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bridge.campaigns.models import Audience, Campaign, CampaignSpec, CampaignState
from bridge.jobs import campaign_progress_job
from bridge.models import ConsentEvent, ConsentKind, ConsentSource, Contact, utcnow
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


# --- the /sms campaign dialog ---------------------------------------------------------

REGULARS = ["+14155550201", "+14155550202", "+14155550203"]


async def regulars(store: SQLiteStore) -> None:
    """Three regulars; only the first may get marketing."""
    for n, phone in enumerate(REGULARS):
        await store.put_contact(Contact(phone=phone, name=f"Ana{n} Ruiz", tags=("regulars",)))
    await store.record_consent(
        [
            ConsentEvent(
                business_number=BUSINESS,
                subscriber=REGULARS[0],
                kind=ConsentKind.MARKETING,
                granted=True,
                source=ConsentSource.IMPORT,
                at=utcnow(),
                ref="import-1",
            )
        ]
    )


def typed(value: str) -> dict[str, Any]:
    return {"type": "plain_text_input", "value": value}


def chosen(value: str) -> dict[str, Any]:
    return {"type": "static_select", "selected_option": {"value": value}}


def form(**changes: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The dialog's fields as a person filled them (block → action → state)."""
    values = {
        "name": typed("flavor-poll"),
        "kind": chosen("marketing"),
        "from": chosen(BUSINESS),
        "tags": typed("regulars"),
        "text": typed("Hi {first_name}! Which flavor? Reply A for Mango, B for Kiwi."),
        "flow": chosen("poll"),
        "options": typed("A: Mango\nB: Kiwi"),
        "link": typed(""),
        "when": chosen("now"),
        "send_at": {"type": "datetimepicker", "selected_date_time": None},
    }
    values.update(changes)
    return {block: {f"campaign_field_{block}": state} for block, state in values.items()}


def modal_text(slack: SlackEmulator, user: str = AGENT) -> str:
    return json.dumps(slack.modals.get(user, {}).get("blocks", []))


async def test_the_dialog_previews_refuses_what_is_wrong_and_creates_one_campaign(
    bridge: BridgeUnderTest, slack: SlackEmulator, store: SQLiteStore
) -> None:
    await regulars(store)
    url = f"{bridge.url}/slack/events"
    answer = await slash(bridge, slack, "campaign")
    assert answer.status == 200
    await eventually(lambda: "campaign_field_text" in modal_text(slack))
    assert slack.calls_to("views.open")

    # Typing the text: the preview shows the sample, who gets it and who not, and why.
    typing = {"type": "plain_text_input", "action_id": "campaign_field_text", "value": "x"}
    await slack.deliver(url, slack.modal_action(AGENT, typing, form()), kind="interactive")
    await eventually(lambda: "Hi Ana0!" in modal_text(slack))
    preview = modal_text(slack)
    assert "Recipients: 1 of 3" in preview
    assert "2 no marketing consent" in preview
    assert "GSM-7" in preview
    assert slack.calls_to("views.update")
    dialog = slack.modals[AGENT]

    async def submit(user: str, values: dict[str, dict[str, Any]]) -> dict[str, Any]:
        """Submit the dialog (which stays open when answered with errors)."""
        slack.modals[user] = dialog
        response = await slack.deliver(url, slack.view_submission(user, values), kind="interactive")
        assert response.status == 200
        return json.loads(response.text) if response.text else {}

    # An unknown placeholder: refused on the text's field, nothing is created.
    refused = await submit(AGENT, form(text=typed("Hi {nickname}")))
    assert refused["response_action"] == "errors"
    assert set(refused["errors"]) == {"text"}
    # A poll with one option: refused on the options' field.
    assert set((await submit(AGENT, form(options=typed("A: Mango"))))["errors"]) == {"options"}
    # An outsider's submission creates nothing.
    await submit(OUTSIDER, form())
    assert await store.list_campaigns() == []

    # Valid: one campaign, created by the person who submitted it.
    assert "errors" not in await submit(AGENT, form())
    await eventually_async(lambda: _campaigns(store, 1))  # created after the answer
    [campaign] = await store.list_campaigns()
    assert campaign.created_by == AGENT
    assert campaign.spec.poll is not None
    assert campaign.spec.to == Audience(tags=("regulars",))
    await eventually(lambda: any("flavor-poll" in m.text for m in slack.messages(INBOX)))


async def test_a_submission_is_answered_before_its_campaign_is_created(
    bridge: BridgeUnderTest,
    slack: SlackEmulator,
    store: SQLiteStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Creating re-reads every recipient's consent, which for a large audience outlasts
    # Slack's 3 s: the submission is answered after the cheap checks, and the audience
    # is read after it. Here the consent reads wait until the test lets them go.
    await regulars(store)
    url = f"{bridge.url}/slack/events"
    reading = asyncio.Event()
    read_consent = store.consent_state

    async def held(*args: Any, **kwargs: Any) -> Any:
        await reading.wait()
        return await read_consent(*args, **kwargs)

    monkeypatch.setattr(store, "consent_state", held)
    assert (await slash(bridge, slack, "campaign")).status == 200
    await eventually(lambda: AGENT in slack.modals)

    submitted = slack.deliver(url, slack.view_submission(AGENT, form()), kind="interactive")
    response = await asyncio.wait_for(submitted, timeout=20)

    assert response.status == 200
    assert "errors" not in (json.loads(response.text) if response.text else {})
    assert await store.list_campaigns() == []
    reading.set()
    await eventually_async(lambda: _campaigns(store, 1))
    [campaign] = await store.list_campaigns()
    assert campaign.created_by == AGENT


async def _campaigns(store: SQLiteStore, count: int) -> bool:
    return len(await store.list_campaigns()) == count


async def test_what_is_wrong_after_the_answer_is_told_to_the_person_ephemerally(
    bridge: BridgeUnderTest, slack: SlackEmulator, store: SQLiteStore
) -> None:
    await regulars(store)
    url = f"{bridge.url}/slack/events"
    assert (await slash(bridge, slack, "campaign")).status == 200
    await eventually(lambda: AGENT in slack.modals)

    # Nobody is tagged "<!here>": found once the audience is read, after the answer.
    values = form(tags=typed("<!here>"))
    response = await slack.deliver(url, slack.view_submission(AGENT, values), kind="interactive")

    assert response.status == 200
    assert "errors" not in (json.loads(response.text) if response.text else {})
    await eventually(lambda: any(e.user == AGENT for e in slack.ephemerals))
    [told] = [e for e in slack.ephemerals if e.user == AGENT]
    assert told.channel == INBOX
    assert "to:" in told.text
    assert "<!here>" not in told.text  # escaped
    assert await store.list_campaigns() == []
