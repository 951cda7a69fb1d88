"""Replies to a campaign through the real bridge app, the real SDK clients and the
emulators: poll answers are tallied and never posted, the results message stays
current at a bounded rate, a question still reaches the inbox quoting the campaign
text, the close uploads a chart once, and YES answers an opt-in request."""

from __future__ import annotations

import math
import time
from pathlib import Path

import aiohttp
import aiosqlite
import pytest

from bridge.campaigns.desk import CampaignDesk
from bridge.campaigns.models import (
    Audience,
    Campaign,
    CampaignKind,
    CampaignSpec,
    OptInRequest,
    Poll,
)
from bridge.config import BusinessConfig
from bridge.jobs import close_campaign_job
from bridge.models import (
    ConsentKind,
    ConsentSource,
    utcnow,
)
from bridge.sandbox.recorder import RecordedCall
from bridge.sandbox.slack_emulator import SlackEmulator
from bridge.sandbox.twilio_emulator import TwilioEmulator
from bridge.store.base import Store
from bridge.store.sqlite import SQLiteStore
from tests.support import (
    AGENT,
    BUSINESS,
    INBOX,
    BridgeUnderTest,
    agent_replies,
    eventually,
    eventually_async,
    parents,
)

CAMPAIGN_OWN = ("dead", "close_campaign", "campaign_progress", "campaign_pump")
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
    """A campaign created at the desk, whose texts the running bridge has sent. A
    support notice: marketing's quiet hours would make the tests depend on the hour."""
    spec = CampaignSpec(
        name="Flavor poll",
        kind=CampaignKind.SUPPORT,
        from_number=BUSINESS,
        to=Audience(numbers=tuple(subscribers)),
        text=text,
        poll=poll,
        opt_in=opt_in,
    )
    config = BusinessConfig()
    desk = CampaignDesk(
        store, config.business, config.campaigns, rate=100, on_enqueued=lambda: None
    )
    created = await desk.create(spec, by=AGENT)

    async def all_sent() -> bool:
        for subscriber in subscribers:
            if await store.latest_campaign_text(BUSINESS, subscriber) is None:
                return False
        return True

    await eventually_async(all_sent, within=30)
    assert all(twilio.sent_to(s) for s in subscribers)
    found = await store.get_campaign(created.id)
    assert found is not None
    assert found.closes_at is not None
    return found


async def settled(bridge: BridgeUnderTest) -> None:
    """No job left but the campaign's own, which wait for its close or follow its
    progress: whatever the answers were going to cause has happened."""

    async def quiet() -> bool:
        async with aiohttp.ClientSession() as http, http.get(f"{bridge.url}/metrics") as r:
            metrics = await r.text()
        return not any(
            line.startswith("bridge_queue_depth{")
            and float(line.rsplit(" ", 1)[1]) > 0
            and not any(f'kind="{kind}"' in line for kind in CAMPAIGN_OWN)
            for line in metrics.splitlines()
        )

    await eventually_async(quiet, within=30)


async def window_ends(db_path: Path, campaign: Campaign) -> None:
    """The answers' window is over: its close job (due at `closes_at`, a day away) is
    made due now, as the clock would."""
    async with aiosqlite.connect(db_path) as db:
        await db.execute(
            "UPDATE jobs SET run_at = ? WHERE key = ?",
            (time.time(), close_campaign_job(campaign.id).key),
        )
        await db.commit()


async def close_done(db_path: Path, campaign: Campaign) -> bool:
    async with (
        aiosqlite.connect(db_path) as db,
        db.execute(
            "SELECT 1 FROM jobs WHERE key = ?", (close_campaign_job(campaign.id).key,)
        ) as cur,
    ):
        return await cur.fetchone() is None


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
    await settled(bridge)
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
    await settled(bridge)
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


async def test_a_vote_after_an_agent_answered_is_counted_and_shown_in_the_thread(
    bridge: BridgeUnderTest, slack: SlackEmulator, twilio: TwilioEmulator, bridge_store: Store
) -> None:
    """Once a person talks with the subscriber, a short "B" may be meant for them: it is
    still a vote, and it is also posted, so the agent does not miss it."""
    slack.add_user(AGENT, "ana", "Ana Ruiz")
    slack.join(INBOX, AGENT)
    campaign = await send_campaign(bridge_store, twilio, [phone(1)])
    await bridge.text(phone(1), "What is in the strawberry one?")
    await eventually(lambda: len(parents(slack)) == 1)
    [parent] = parents(slack)
    await eventually(lambda: len(slack.replies(INBOX, parent.ts)) == 1)
    await agent_replies(bridge, slack, parent.ts, "Fresh strawberries and cream!")
    await eventually(lambda: len(twilio.sent_to(phone(1))) == 2)
    await bridge.text(phone(1), "B")
    assert (await bridge_store.tally(campaign.id)).counts == {"B": 1}
    await eventually(lambda: any(r.text.endswith("B") for r in slack.replies(INBOX, parent.ts)))


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
    bridge: BridgeUnderTest,
    slack: SlackEmulator,
    twilio: TwilioEmulator,
    bridge_store: Store,
    db_path: Path,
) -> None:
    campaign = await send_campaign(bridge_store, twilio, [phone(1), phone(2)])
    await bridge.text(phone(1), "A")
    await eventually(lambda: "1 answer" in results_text(slack, campaign))
    await window_ends(db_path, campaign)
    await eventually(lambda: "final results" in results_text(slack, campaign), within=20)
    await settled(bridge)
    closed = await bridge_store.get_campaign(campaign.id)
    assert closed is not None
    assert closed.closed

    def shares() -> list[RecordedCall]:
        return [c for c in slack.calls_to("files.completeUploadExternal") if not c.failed]

    await eventually(lambda: len(shares()) == 1, within=30)
    assert shares()[0].args.get("thread_ts") == closed.results_ts
    # Closed: an answer now is an ordinary text, for the inbox.
    await bridge.text(phone(2), "B")
    await eventually(lambda: len(parents(slack)) == 1)
    assert (await bridge_store.tally(campaign.id)).total == 1
    # The close run again (a retry) changes nothing more.
    await eventually_async(lambda: close_done(db_path, campaign), within=30)
    await bridge_store.enqueue(close_campaign_job(campaign.id), run_at=utcnow())
    await eventually_async(lambda: close_done(db_path, campaign), within=30)
    assert len(shares()) == 1


async def test_yes_to_an_opt_in_request_is_marketing_consent_from_that_request(
    bridge: BridgeUnderTest, slack: SlackEmulator, twilio: TwilioEmulator, bridge_store: Store
) -> None:
    # Personalised as the campaign's text is.
    request = OptInRequest(confirm="You're in ({phone})! Reply STOP to opt out.")
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
    await settled(bridge)
    confirmed = f"You're in ({phone(1)})! Reply STOP to opt out."
    assert [m.body for m in twilio.sent_to(phone(1))][-1] == confirmed
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
