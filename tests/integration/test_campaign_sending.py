"""A campaign sent by the whole bridge (real Twilio and Slack clients against the
emulators): who gets a text, once each; an opt-out during the campaign; no Slack
traffic per recipient."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.campaign_settings import CampaignsSection
from bridge.campaigns.desk import CampaignDesk
from bridge.campaigns.models import Audience, CampaignSpec, CampaignState, Segment
from bridge.config import Business, BusinessConfig
from bridge.models import DeliveryStatus
from bridge.sandbox.slack_emulator import SlackEmulator
from bridge.sandbox.twilio_emulator import TwilioEmulator
from bridge.sandbox.wiring import BUSINESS
from bridge.store.base import Store
from bridge.store.sqlite import SQLiteStore
from tests.campaign_support import Base, daytime_zone
from tests.support import BridgeUnderTest, eventually, eventually_async, parents

TEXT = "Hi {first_name}, fresh sourdough today!"


@pytest.fixture
def business_config() -> BusinessConfig:
    return BusinessConfig(business=Business(name="Harbor Bakery", timezone=daytime_zone()))


@pytest.fixture
def extra_env() -> dict[str, str]:
    return {"BRIDGE_SMS_RATE": "20"}


@pytest.fixture
def bridge_store(db_path: Path) -> Store:
    return SQLiteStore(db_path)  # the test seeds and reads the bridge's own store


def desk(store: Store, config: BusinessConfig) -> CampaignDesk:
    segments = CampaignsSection(segments={"regulars": Segment(tags=("regulars",))})
    return CampaignDesk(store, config.business, segments, rate=20, on_enqueued=lambda: None)


def spec() -> CampaignSpec:
    return CampaignSpec(
        name="sourdough", from_number=BUSINESS, to=Audience(segment="regulars"), text=TEXT
    )


def texts_to(twilio: TwilioEmulator, phone: str) -> list[str]:
    return [m.body for m in twilio.sent_to(phone) if "sourdough" in m.body]


async def finished(store: Store, campaign_id: str) -> bool:
    campaign = await store.get_campaign(campaign_id)
    progress = await store.campaign_progress(campaign_id)
    done = campaign is not None and campaign.state is CampaignState.DONE
    return done and progress.queued == 0


async def test_a_segment_of_50_gets_exactly_35_texts_and_slack_sees_none(
    bridge: BridgeUnderTest,
    bridge_store: Store,
    business_config: BusinessConfig,
    slack: SlackEmulator,
    twilio: TwilioEmulator,
) -> None:
    base = Base(BUSINESS, prefix="+1800555")
    await base.store_in(bridge_store)

    campaign = await desk(bridge_store, business_config).create(spec(), by="cli")
    await eventually_async(lambda: finished(bridge_store, campaign.id), within=60)
    await bridge.idle()

    assert {p: len(texts_to(twilio, p)) for p in base.phones if texts_to(twilio, p)} == {
        p: 1 for p in base.may_get_marketing
    }
    assert texts_to(twilio, base.phones[5]) == ["Hi Pat5, fresh sourdough today!"]
    progress = await bridge_store.campaign_progress(campaign.id)
    assert (progress.sent, progress.skipped) == (35, 15)
    # Not a post, a card or a mark per recipient: the inbox stays as it was.
    assert parents(slack) == []
    posts = slack.calls_to("chat.postMessage") + slack.calls_to("chat.update")
    assert [c for c in posts if any(p[2:] in str(c.args) for p in base.phones)] == []


async def test_a_subscriber_who_opts_out_during_the_campaign_gets_nothing_after(
    bridge: BridgeUnderTest,
    bridge_store: Store,
    business_config: BusinessConfig,
    twilio: TwilioEmulator,
) -> None:
    base = Base(BUSINESS, prefix="+1800555")
    await base.store_in(bridge_store)
    campaigns = desk(bridge_store, business_config)
    campaign = await campaigns.create(spec(), by="cli")
    await eventually(lambda: any(texts_to(twilio, p) for p in base.phones))
    await campaigns.pause(campaign.id, by="U1")
    # Someone whose text has not gone out yet: not queued yet, or queued and held.
    recipients = await bridge_store.campaign_recipients(campaign.id)
    waiting = []
    for r in recipients:
        text = await bridge_store.get_message(r.message_id) if r.message_id else None
        if r.subscriber in base.may_get_marketing and (
            text is None or text.status is DeliveryStatus.QUEUED
        ):
            waiting.append(r.subscriber)
    late = waiting[-1]

    answer = await bridge.text(late, "STOP")
    assert answer.status == 200
    await campaigns.resume(campaign.id, by="U1")
    await eventually_async(lambda: finished(bridge_store, campaign.id), within=60)
    await bridge.idle()

    assert texts_to(twilio, late) == []
    sent = [p for p in base.phones if texts_to(twilio, p)]
    assert sent == [p for p in base.may_get_marketing if p != late]
    progress = await bridge_store.campaign_progress(campaign.id)
    assert progress.sent == 34
    assert progress.opted_out_since == 1
