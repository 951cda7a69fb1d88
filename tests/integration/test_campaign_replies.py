"""Replies to a campaign through the real bridge app, the real SDK clients and the
emulators: poll answers are tallied and never posted, the results message stays
current at a bounded rate, a question still reaches the inbox quoting the campaign
text, the close uploads a chart once, and YES answers an opt-in request."""

from __future__ import annotations

import math
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest

from bridge.campaigns.models import (
    Audience,
    Campaign,
    CampaignKind,
    CampaignSpec,
    CampaignState,
    OptInRequest,
    Poll,
)
from bridge.jobs import close_campaign_job
from bridge.models import (
    ConsentKind,
    ConsentSource,
    DeliveryStatus,
    Direction,
    Message,
    MessagePurpose,
    utcnow,
)
from bridge.sandbox.slack_emulator import SlackEmulator
from bridge.sandbox.twilio_emulator import TwilioEmulator
from bridge.store.base import Store
from bridge.store.sqlite import SQLiteStore
from tests.support import BUSINESS, INBOX, BridgeUnderTest, eventually, eventually_async, parents

FLAVOURS = Poll(options={"A": "Mango", "B": "Strawberry", "C": "Vanilla"})
QUESTION = "Which new flavor should we add? Reply A for Mango, B for Strawberry, C for Vanilla."


def phone(n: int) -> str:
    return f"+1415555{n:04d}"


@pytest.fixture
def extra_env() -> dict[str, str]:
    return {"BRIDGE_SMS_RATE": "100"}  # the campaign's texts go out fast


@pytest.fixture
def bridge_store(db_path: Path) -> Store:
    """The bridge's own store, which the tests also use to set a campaign going."""
    return SQLiteStore(db_path)


async def send_campaign(
    store: Store,
    twilio: TwilioEmulator,
    subscribers: list[str],
    *,
    poll: Poll | None = FLAVOURS,
    opt_in: OptInRequest | None = None,
    text: str = QUESTION,
) -> Campaign:
    """A campaign whose texts the bridge has sent (the store's steps of the pump)."""
    now = utcnow()
    spec = CampaignSpec(
        name="Flavor poll",
        kind=CampaignKind.SUPPORT,
        from_number=BUSINESS,
        to=Audience(numbers=tuple(subscribers)),
        text=text,
        poll=poll,
        opt_in=opt_in,
    )
    campaign_id = uuid.uuid4().hex[:8]
    campaign = Campaign(
        id=campaign_id,
        spec=spec,
        state=CampaignState.SCHEDULED,
        created_by="cli",
        created_at=now,
    )
    assert await store.create_campaign(campaign, subscribers)
    await store.start_campaign(campaign_id, at=now, closes_at=now + timedelta(hours=24))
    for subscriber in subscribers:
        conversation = await store.open_conversation(BUSINESS, subscriber)
        message = Message(
            id=uuid.uuid4().hex,
            conversation_id=conversation.id,
            direction=Direction.OUTBOUND,
            body=text,
            created_at=now,
            status=DeliveryStatus.QUEUED,
            purpose=MessagePurpose.NOTICE,
            campaign_id=campaign_id,
        )
        assert await store.queue_campaign_text(message, subscriber, send_at=now)

    async def all_sent() -> bool:
        for subscriber in subscribers:
            if await store.latest_campaign_text(BUSINESS, subscriber) is None:
                return False
        return True

    await eventually_async(all_sent, within=30)
    assert all(twilio.sent_to(s) for s in subscribers)
    found = await store.get_campaign(campaign_id)
    assert found is not None
    return found


def results_text(slack: SlackEmulator, campaign: Campaign) -> str:
    for message in slack.messages(INBOX):
        if f"`{campaign.id}`" in message.text + str(message.blocks) and "poll results" in str(
            message.blocks
        ):
            return str(message.blocks)
    return ""


def inbox_texts(slack: SlackEmulator) -> list[str]:
    """Every text in the inbox channel, parents and thread replies."""
    texts = []
    for message in slack.messages(INBOX):
        texts.append(message.text)
        texts += [reply.text for reply in slack.replies(INBOX, message.ts)]
    return texts


async def test_forgiving_answers_are_tallied_and_none_is_posted(
    bridge: BridgeUnderTest, slack: SlackEmulator, twilio: TwilioEmulator, bridge_store: Store
) -> None:
    answers = {"a": "A", "B)": "B", "mango!": "A", "option c": "C", "2️⃣": "B", "I vote C": "C"}
    subscribers = [phone(i) for i in range(len(answers))]
    campaign = await send_campaign(bridge_store, twilio, subscribers)
    for subscriber, text in zip(subscribers, answers, strict=True):
        response = await bridge.text(subscriber, text)
        assert response.status == 200
    tally = await bridge_store.tally(campaign.id)
    assert tally.counts == {"A": 2, "B": 2, "C": 2}
    await eventually(lambda: "6 answers" in results_text(slack, campaign))
    await bridge.idle()
    assert parents(slack) == []  # no conversation was posted into the inbox
    assert not any(text in inbox_texts(slack) for text in answers)
    shown = results_text(slack, campaign)
    assert "Mango — 2 (33%)" in shown
    assert "Vanilla — 2 (33%)" in shown


async def test_a_second_vote_replaces_the_first_unless_the_poll_keeps_the_first(
    bridge: BridgeUnderTest, slack: SlackEmulator, twilio: TwilioEmulator, bridge_store: Store
) -> None:
    last = await send_campaign(bridge_store, twilio, [phone(1)])
    await bridge.text(phone(1), "A")
    await bridge.text(phone(1), "b")
    assert (await bridge_store.tally(last.id)).counts == {"B": 1}
    first_poll = FLAVOURS.model_copy(update={"votes": "first"})
    first = await send_campaign(bridge_store, twilio, [phone(2)], poll=first_poll)
    await bridge.text(phone(2), "A")
    await bridge.text(phone(2), "b")
    assert (await bridge_store.tally(first.id)).counts == {"A": 1}
    [answer] = await bridge_store.campaign_answers(first.id)
    assert answer.text == "A"


async def test_a_confirmation_is_texted_once_for_a_counted_vote(
    bridge: BridgeUnderTest, slack: SlackEmulator, twilio: TwilioEmulator, bridge_store: Store
) -> None:
    poll = FLAVOURS.model_copy(update={"confirm": "Thanks! You voted {label}."})
    await send_campaign(bridge_store, twilio, [phone(1)], poll=poll)
    sid = "SM" + "c" * 32
    await bridge.text(phone(1), "mango", sid=sid)
    await bridge.text(phone(1), "mango", sid=sid)  # Twilio's retry of the same text
    await bridge.idle()
    bodies = [m.body for m in twilio.sent_to(phone(1))]
    assert bodies == [QUESTION, "Thanks! You voted Mango."]
    assert parents(slack) == []


async def test_a_question_during_the_poll_reaches_the_inbox_quoting_the_campaign_text(
    bridge: BridgeUnderTest, slack: SlackEmulator, twilio: TwilioEmulator, bridge_store: Store
) -> None:
    campaign = await send_campaign(bridge_store, twilio, [phone(1), phone(2)])
    await bridge.text(phone(1), "Mango is gross, what else do you have?")
    await eventually(lambda: len(parents(slack)) == 1)
    [parent] = parents(slack)
    await eventually(lambda: len(slack.replies(INBOX, parent.ts)) == 1)
    [post] = slack.replies(INBOX, parent.ts)
    assert "Mango is gross, what else do you have?" in post.text
    assert QUESTION in post.text  # the campaign text it answers, in the same post
    assert f"`{campaign.id}`" in post.text
    # STOP is a keyword, never an answer: the opt-out is recorded, nothing is tallied.
    await bridge.text(phone(2), "STOP")
    assert not (await bridge_store.consent_state(BUSINESS, phone(2))).conversational
    assert (await bridge_store.tally(campaign.id)).total == 0


async def test_the_results_message_is_updated_at_most_once_per_five_seconds(
    bridge: BridgeUnderTest, slack: SlackEmulator, twilio: TwilioEmulator, bridge_store: Store
) -> None:
    subscribers = [phone(i) for i in range(40)]
    campaign = await send_campaign(bridge_store, twilio, subscribers)
    began = time.monotonic()
    for i, subscriber in enumerate(subscribers):
        await bridge.text(subscriber, "ABC"[i % 3])
    await eventually(lambda: "40 answers" in results_text(slack, campaign), within=30)
    elapsed = time.monotonic() - began
    posts = [
        c for c in slack.calls_to("chat.postMessage") if "poll results" in str(c.args.get("blocks"))
    ]
    updates = [c for c in slack.calls_to("chat.update") if not c.failed]
    assert len(posts) == 1
    # The first render is the post; at most one update in every 5 s after it.
    assert len(updates) <= math.ceil(elapsed / 5) + 1
    assert parents(slack) == []


async def test_the_close_renders_final_results_uploads_one_chart_and_ends_the_answers(
    bridge: BridgeUnderTest, slack: SlackEmulator, twilio: TwilioEmulator, bridge_store: Store
) -> None:
    campaign = await send_campaign(bridge_store, twilio, [phone(1), phone(2)])
    await bridge.text(phone(1), "A")
    await eventually(lambda: "1 answer" in results_text(slack, campaign))
    await bridge_store.enqueue(close_campaign_job(campaign.id), run_at=utcnow())
    await eventually(lambda: "final results" in results_text(slack, campaign), within=20)
    await bridge.idle()
    closed = await bridge_store.get_campaign(campaign.id)
    assert closed is not None
    assert closed.closed
    shares = [c for c in slack.calls_to("files.completeUploadExternal") if not c.failed]
    assert len(shares) == 1
    assert shares[0].args.get("thread_ts") == closed.results_ts
    # Closed: an answer now is an ordinary text, for the inbox.
    await bridge.text(phone(2), "B")
    await eventually(lambda: len(parents(slack)) == 1)
    assert (await bridge_store.tally(campaign.id)).total == 1
    # A retry of the close changes nothing more.
    await bridge_store.enqueue(close_campaign_job(campaign.id), run_at=utcnow())
    await bridge.idle()
    assert len([c for c in slack.calls_to("files.completeUploadExternal") if not c.failed]) == 1


async def test_yes_to_an_opt_in_request_is_marketing_consent_from_that_request(
    bridge: BridgeUnderTest, slack: SlackEmulator, twilio: TwilioEmulator, bridge_store: Store
) -> None:
    request = OptInRequest(confirm="You're in! Reply STOP to opt out.")
    campaign = await send_campaign(
        bridge_store, twilio, [phone(1)], poll=None, opt_in=request, text="Reply YES to get offers"
    )
    assert not (await bridge_store.consent_state(BUSINESS, phone(1))).marketing
    sid = "SM" + "d" * 32
    before = utcnow()
    assert (await bridge.text(phone(1), "Yes!", sid=sid)).status == 200
    assert (await bridge_store.consent_state(BUSINESS, phone(1))).marketing
    [event] = [e for e in await bridge_store.consent_log() if e.kind is ConsentKind.MARKETING]
    assert event.granted
    assert event.source is ConsentSource.OPT_IN_REQUEST
    assert event.ref == sid
    assert campaign.id in event.evidence
    assert before <= event.at <= utcnow()
    await bridge.idle()
    assert [m.body for m in twilio.sent_to(phone(1))][-1] == "You're in! Reply STOP to opt out."
    assert parents(slack) == []


async def test_yes_without_an_opt_in_request_is_an_ordinary_text(
    bridge: BridgeUnderTest, slack: SlackEmulator, twilio: TwilioEmulator, bridge_store: Store
) -> None:
    await send_campaign(bridge_store, twilio, [phone(1)])  # a poll: no opt-in request
    await bridge.text(phone(1), "YES")
    await bridge.text(phone(2), "YES")  # and no campaign at all
    await eventually(lambda: len(parents(slack)) == 2)
    assert not (await bridge_store.consent_state(BUSINESS, phone(1))).marketing
    assert not (await bridge_store.consent_state(BUSINESS, phone(2))).marketing
    assert all(e.kind is not ConsentKind.MARKETING for e in await bridge_store.consent_log())
