"""A rating request's answers through the real bridge, slack_sdk and twilio against the
emulators: "1" flags the conversation, moves it to the support team and DMs the on-call
person at once; "5" gets one review request per period; "3" gets the follow-up question
and the next text reaches the inbox quoting it; `/sms feedback report` answers with the
average and posts the report with its chart in the inbox channel."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bridge.campaigns.feedback_flow import follow_up_id
from bridge.campaigns.models import (
    Audience,
    Campaign,
    CampaignKind,
    CampaignSpec,
    CampaignState,
    Feedback,
)
from bridge.config import BusinessConfig
from bridge.models import DeliveryStatus, Direction, Message, MessagePurpose, utcnow
from bridge.sandbox.slack_emulator import SlackEmulator
from bridge.sandbox.twilio_emulator import TwilioEmulator
from bridge.sandbox.wiring import BUSINESS, INBOX
from bridge.store.base import Store
from bridge.store.sqlite import SQLiteStore
from tests.support import (
    AGENT,
    BridgeUnderTest,
    eventually,
    eventually_async,
    slash,
    thread_texts,
)

ANA = "+14155550123"
BEN = "+14155550124"
ON_CALL = "U0ONCALL"
SUPPORT = "C0SUPPORT"
ASK = "How was your visit today? Reply with a rating 1-5."
REVIEW_LINK = "https://reviews.example/harbor"
FOLLOW_UP = "Sorry to hear it! What could we have done better?"
FEEDBACK = Feedback(review_link=REVIEW_LINK, follow_up=FOLLOW_UP)
NEXT_SID = "SM" + "0" * 31 + "7"


@pytest.fixture
def business_config(slack: SlackEmulator) -> BusinessConfig:
    slack.add_channel(SUPPORT, "support")
    slack.join(SUPPORT, slack.bot_user_id, AGENT)
    slack.join(INBOX, AGENT)
    slack.add_user(ON_CALL, "olga", "Olga On-Call")
    slack.add_user(AGENT, "ana", "Ana Ruiz")
    urgent = {"on": "feedback.low", "when": {"urgency": "urgent"}, "notify": ["on_call"]}
    return BusinessConfig.model_validate(
        {
            "business": {"name": "Harbor Street Bakery"},
            "slack": {"undo_seconds": 0},
            "routing": {"teams": {"support": {"channel": SUPPORT, "members": [AGENT]}}},
            "notifications": {"on_call": ON_CALL, "rules": [urgent | {"via": ["slack_dm"]}]},
        }
    )


@pytest.fixture
def bridge_store(db_path: Path) -> Store:
    return SQLiteStore(db_path)


async def ask_for_a_rating(
    store: Store, twilio: TwilioEmulator, campaign_id: str, *subscribers: str
) -> None:
    """A support campaign asks them for a rating; Twilio accepts each text. Its texts
    are queued as the pump queues them, without the pump's and the answers' window's
    later jobs, so `idle` can tell that nothing more happens."""
    now = utcnow()
    spec = CampaignSpec(
        name=campaign_id,
        kind=CampaignKind.SUPPORT,
        from_number=BUSINESS,
        to=Audience(numbers=subscribers),
        text=ASK,
        feedback=FEEDBACK,
    )
    campaign = Campaign(
        id=campaign_id, spec=spec, state=CampaignState.SCHEDULED, created_by="cli", created_at=now
    )
    await store.create_campaign(campaign, subscribers)
    await store.start_campaign(campaign_id, at=now, closes_at=now + timedelta(hours=72))
    for subscriber in subscribers:
        conversation = await store.open_conversation(BUSINESS, subscriber)
        text = Message(
            id=f"{campaign_id}:{subscriber}",
            conversation_id=conversation.id,
            direction=Direction.OUTBOUND,
            body=ASK,
            created_at=now,
            status=DeliveryStatus.QUEUED,
            purpose=MessagePurpose.NOTICE,
            campaign_id=campaign_id,
        )
        await store.queue_campaign_text(text, subscriber, send_at=now)

    async def accepted() -> bool:
        for subscriber in subscribers:
            found = await store.latest_campaign_text(BUSINESS, subscriber)
            if found is None or found[0].id != campaign_id:
                return False
        return True

    await eventually_async(accepted, within=30)


def texts_to(twilio: TwilioEmulator, number: str) -> list[str]:
    return [m.body for m in twilio.sent_to(number)]


async def test_a_1_flags_routes_to_support_and_notifies_the_on_call_person_at_once(
    bridge: BridgeUnderTest, slack: SlackEmulator, twilio: TwilioEmulator, bridge_store: Store
) -> None:
    await ask_for_a_rating(bridge_store, twilio, "visit-1", ANA)
    await bridge.text(ANA, "1 - the cake was stale", sid=NEXT_SID)
    await bridge.text(ANA, "1 - the cake was stale", sid=NEXT_SID)  # Twilio's retry
    await eventually(lambda: len(slack.messages(ON_CALL)) == 1, within=30)
    [dm] = slack.messages(ON_CALL)
    assert "1/5" in dm.text
    assert "the cake was stale" in dm.text

    def in_support() -> list[str]:
        return [m.text for p in slack.messages(SUPPORT) for m in slack.replies(SUPPORT, p.ts)]

    await eventually(lambda: any("the cake was stale" in t for t in in_support()), within=30)
    conversation = await bridge_store.find_conversation(BUSINESS, ANA)
    assert conversation is not None
    assert conversation.flagged
    assert conversation.flag_reason == "rated 1/5"
    assert conversation.team == "support"
    assert (await bridge_store.counted_answer("visit-1", ANA)) is not None
    message = await bridge_store.get_message_by_sid(NEXT_SID)
    assert message is not None
    assert message.answers == f"visit-1:{ANA}"  # its post quotes the rating request
    await bridge.idle()
    assert len(slack.messages(ON_CALL)) == 1  # once, whatever the retries
    assert len(slack.messages(SUPPORT)) == 1
    flagged = [t for t in in_support() + thread_texts(slack, "0123") if "rated 1/5" in t]
    assert len(flagged) == 1


async def test_a_5_gets_one_review_request_per_period(
    bridge: BridgeUnderTest, slack: SlackEmulator, twilio: TwilioEmulator, bridge_store: Store
) -> None:
    await ask_for_a_rating(bridge_store, twilio, "visit-1", ANA)
    await bridge.text(ANA, "5 stars!")
    await eventually(lambda: any(REVIEW_LINK in t for t in texts_to(twilio, ANA)), within=30)
    await ask_for_a_rating(bridge_store, twilio, "visit-2", ANA)  # a month later, say
    await bridge.text(ANA, "⭐⭐⭐⭐⭐")
    await eventually_async(lambda: _counted(bridge_store, "visit-2", ANA), within=30)
    await bridge.idle()
    assert sum(REVIEW_LINK in t for t in texts_to(twilio, ANA)) == 1
    assert thread_texts(slack, "0123") == []  # a good rating is no inbox text


async def _counted(store: Store, campaign_id: str, subscriber: str) -> bool:
    return await store.counted_answer(campaign_id, subscriber) is not None


async def test_a_3_asks_the_follow_up_and_the_next_text_reaches_the_inbox_quoting_it(
    bridge: BridgeUnderTest, slack: SlackEmulator, twilio: TwilioEmulator, bridge_store: Store
) -> None:
    await ask_for_a_rating(bridge_store, twilio, "visit-1", ANA)
    await bridge.text(ANA, "3")
    await eventually(lambda: FOLLOW_UP in texts_to(twilio, ANA), within=30)
    await bridge.text(ANA, "2 of the rolls were burnt", sid=NEXT_SID)
    await eventually(
        lambda: any("rolls were burnt" in t for t in thread_texts(slack, "0123")), within=30
    )
    message = await bridge_store.get_message_by_sid(NEXT_SID)
    assert message is not None
    assert message.answers == follow_up_id("visit-1", ANA)  # its post quotes the follow-up
    counted = await bridge_store.counted_answer("visit-1", ANA)
    assert counted is not None
    assert counted.choice == "3"  # the next text was not read as a rating


async def test_the_report_command_answers_with_the_average_and_posts_the_chart(
    bridge: BridgeUnderTest, slack: SlackEmulator, twilio: TwilioEmulator, bridge_store: Store
) -> None:
    await ask_for_a_rating(bridge_store, twilio, "visit-1", ANA, BEN)
    await bridge.text(ANA, "4")
    await bridge.text(BEN, "five")
    await eventually_async(lambda: _counted(bridge_store, "visit-1", BEN), within=30)
    await eventually_async(lambda: _counted(bridge_store, "visit-1", ANA), within=30)
    response = await slash(bridge, slack, "feedback report weeks 4")
    assert response.status == 200
    assert "4.50" in response.text
    assert "2 ratings" in response.text

    def reports() -> list[str]:
        return [m.text for m in slack.messages(INBOX) if "Feedback report" in m.text]

    await eventually(lambda: len(reports()) == 1, within=30)
    assert "4.50" in reports()[0]
    await eventually(lambda: len(slack.calls_to("files.completeUploadExternal")) == 1, within=30)
    await bridge.idle()
    assert len(reports()) == 1
