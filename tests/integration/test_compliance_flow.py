"""Keywords before the inbox, the consent ledger and the outbound guard, through the
real bridge app, slack_sdk and twilio clients against the emulators."""

from __future__ import annotations

import asyncio
import csv
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bridge.config import BusinessConfig
from bridge.sandbox.slack_emulator import Ephemeral, SlackEmulator
from bridge.sandbox.twilio_emulator import TwilioEmulator
from bridge.slack.jobs.delivery_marks import DELIVERED
from tests.support import (
    AGENT,
    INBOX,
    BridgeUnderTest,
    agent_replies,
    bridge_env,
    eventually,
    open_thread,
    parents,
    thread_texts,
)

ANA = "+14155550123"
CONFIG = {
    "business": {
        "name": "Harbor Street Bakery",
        "contact": "Call (415) 555-0188",
        "hours": {"mon-fri": "07:00-18:00"},
    },
    "slack": {"undo_seconds": 0},
}


@pytest.fixture
def business_config(request: pytest.FixtureRequest) -> BusinessConfig:
    return BusinessConfig.model_validate(CONFIG | getattr(request, "param", {}))


@pytest.fixture(autouse=True)
def quiet_twilio(twilio: TwilioEmulator, slack: SlackEmulator) -> None:
    twilio.keyword_opt_out = False  # the bridge's behaviour alone, not Twilio's block list
    slack.add_user(AGENT, "ana", "Ana Ruiz", display_name="Ana")
    slack.join(INBOX, AGENT)  # only members of the inbox text customers


def ephemerals(slack: SlackEmulator) -> list[str]:
    return [str(c.args["text"]) for c in slack.calls_to("chat.postEphemeral") if not c.failed]


async def test_stop_is_a_note_not_a_message_and_blocks_replies(
    bridge: BridgeUnderTest, slack: SlackEmulator, twilio: TwilioEmulator
) -> None:
    thread = await open_thread(bridge, slack, ANA)
    assert (await bridge.text(ANA, "Stop.")).status == 200
    await eventually(lambda: any("Opted out via Stop." in t for t in thread_texts(slack, "0123")))
    assert "Stop." not in thread_texts(slack, "0123")  # not posted as a customer message
    await eventually(lambda: "opted out" in str(slack.message(INBOX, thread).blocks))

    refused, _ = await agent_replies(bridge, slack, thread, "Sorry to see you go!")
    await eventually(lambda: any("opted out" in t for t in ephemerals(slack)))
    refused_ts = refused["event"]["ts"]
    await eventually(lambda: "no_entry_sign" in slack.message(INBOX, refused_ts).reactions)
    await asyncio.sleep(0.3)
    assert twilio.sent == []  # Twilio answers STOP itself; the bridge sends nothing


async def test_a_plain_language_revocation_gets_exactly_one_confirmation(
    bridge: BridgeUnderTest, slack: SlackEmulator, twilio: TwilioEmulator
) -> None:
    await open_thread(bridge, slack, ANA)
    sid = "SM" + "7" * 32
    await bridge.text(ANA, "Please stop texting me", sid=sid)
    await bridge.text(ANA, "Please stop texting me", sid=sid)  # Twilio retries the webhook
    await eventually(lambda: len(twilio.sent) == 1)
    await asyncio.sleep(0.3)
    [confirmation] = twilio.sent
    assert confirmation.to == ANA
    assert "Harbor Street Bakery" in confirmation.body
    assert "START" in confirmation.body
    await eventually(lambda: any("texted back" in t for t in thread_texts(slack, "0123")))


async def test_start_allows_replies_again_and_help_answers_with_the_contact(
    bridge: BridgeUnderTest, slack: SlackEmulator, twilio: TwilioEmulator
) -> None:
    thread = await open_thread(bridge, slack, ANA)
    await bridge.text(ANA, "STOP")
    await bridge.text(ANA, "start")
    await eventually(lambda: any("Opted back in" in t for t in thread_texts(slack, "0123")))
    await agent_replies(bridge, slack, thread, "Welcome back!")
    await eventually(lambda: [m.body for m in twilio.sent] == ["Welcome back!"])

    await bridge.text(ANA, "HELP")
    await eventually(lambda: len(twilio.sent) == 2)
    help_text = twilio.sent[1].body
    assert help_text.startswith("Harbor Street Bakery: Call (415) 555-0188. Hours: mon-fri")
    assert "Reply STOP to opt out" in help_text


@pytest.mark.parametrize(
    "business_config", [{"compliance": {"provider_answers": []}}], indirect=True
)
async def test_the_bridge_confirms_stop_when_the_provider_does_not(
    bridge: BridgeUnderTest, slack: SlackEmulator, twilio: TwilioEmulator
) -> None:
    await open_thread(bridge, slack, ANA)
    await bridge.text(ANA, "UNSUBSCRIBE")
    await eventually(lambda: len(twilio.sent) == 1)
    assert "unsubscribed" in twilio.sent[0].body
    await bridge.text(ANA, "Join")
    await eventually(lambda: len(twilio.sent) == 2)
    assert "subscribed again" in twilio.sent[1].body


async def test_sentences_with_keywords_are_ordinary_and_doubts_are_flagged(
    bridge: BridgeUnderTest, slack: SlackEmulator, twilio: TwilioEmulator
) -> None:
    await open_thread(bridge, slack, ANA)
    await bridge.text(ANA, "I want to cancel my order")
    await bridge.text(ANA, "how do I stop these?")
    await eventually(lambda: len(thread_texts(slack, "0123")) == 3)
    texts = thread_texts(slack, "0123")
    assert texts[1] == "I want to cancel my order"
    assert texts[2].startswith("how do I stop these?")
    assert "may be a request to stop texting" in texts[2]
    assert len(parents(slack)) == 1


async def test_the_ledger_export_lists_every_change_with_source_and_time(
    bridge: BridgeUnderTest,
    slack: SlackEmulator,
    twilio: TwilioEmulator,
    db_path: Path,
    tmp_path: Path,
) -> None:
    thread = await open_thread(bridge, slack, ANA)
    await bridge.text(ANA, "STOP")
    await bridge.text(ANA, "START")
    twilio.opt_out(ANA)  # the carrier still blocks: the next send fails with 21610
    reply, _ = await agent_replies(bridge, slack, thread, "hello?")
    await eventually(lambda: "warning" in slack.message(INBOX, reply["event"]["ts"]).reactions)

    export = tmp_path / "consent.csv"
    env = os.environ | bridge_env(slack, twilio, db_path)
    done = await asyncio.to_thread(
        subprocess.run,
        [str(Path(sys.executable).with_name("sms-bridge")), "consent", "export", str(export)],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "5 consent events written" in done.stdout
    rows = list(csv.DictReader(export.open(encoding="utf-8")))
    changes = [(r["kind"], r["change"], r["source"]) for r in rows]
    assert changes == [
        ("conversational", "revoked", "keyword"),
        ("marketing", "revoked", "keyword"),
        ("conversational", "granted", "keyword"),
        ("conversational", "revoked", "provider_21610"),
        ("marketing", "revoked", "provider_21610"),
    ]
    assert all(r["at"] and r["subscriber"] == ANA for r in rows)
    assert rows[0]["evidence"] == "STOP"


def held_note(slack: SlackEmulator) -> Ephemeral:
    return next(e for e in slack.ephemerals if e.blocks and "reads like marketing" in e.text)


async def test_a_promotion_without_marketing_consent_waits_for_the_agent(
    bridge: BridgeUnderTest, slack: SlackEmulator, twilio: TwilioEmulator
) -> None:
    thread = await open_thread(bridge, slack, ANA)
    url = f"{bridge.url}/slack/events"
    await agent_replies(
        bridge, slack, thread, "Your cake is ready! Use promo code SWEET for 20% off"
    )
    await eventually(lambda: any("reads like marketing" in t for t in ephemerals(slack)))
    note = held_note(slack)
    held_id = note.blocks[1]["elements"][0]["value"]

    # Edit as support-only: the modal opens with the text; marketing left in is refused.
    edit = slack.block_action(AGENT, "held_edit", held_id, channel=INBOX, message_ts=note.ts)
    clicked = await slack.deliver(url, edit, kind="interactive")
    assert clicked.status == 200
    await eventually(lambda: AGENT in slack.modals)
    assert "promo code SWEET" in json.dumps(slack.modals[AGENT])
    still = slack.view_submission(AGENT, {"reply_block": {"reply": "Ready! 20% off today"}})
    refused = await slack.deliver(url, still, kind="interactive")
    assert "still reads like marketing" in refused.text
    slack.modals[AGENT] = still["view"]  # Slack keeps the modal open on errors
    ok = slack.view_submission(AGENT, {"reply_block": {"reply": "Your cake is ready!"}})
    assert (await slack.deliver(url, ok, kind="interactive")).status == 200
    await eventually(lambda: [m.body for m in twilio.sent] == ["Your cake is ready!"])

    # Cancel: nothing is sent, and the note says so.
    await agent_replies(bridge, slack, thread, "Flash sale this weekend, shop now!")
    await eventually(lambda: len([t for t in ephemerals(slack) if "marketing" in t]) == 2)
    second = [e for e in slack.ephemerals if e.blocks and "marketing" in e.text][-1]
    cancel = slack.block_action(
        AGENT,
        "held_cancel",
        second.blocks[1]["elements"][1]["value"],
        channel=INBOX,
        message_ts=second.ts,
    )
    await slack.deliver(url, cancel, kind="interactive")
    await eventually(lambda: any("Cancelled" in str(r) for r in slack.responses))
    await asyncio.sleep(0.3)
    assert [m.body for m in twilio.sent] == ["Your cake is ready!"]


async def test_a_held_reply_sent_as_support_only_shows_what_was_sent(
    bridge: BridgeUnderTest, slack: SlackEmulator, twilio: TwilioEmulator
) -> None:
    thread = await open_thread(bridge, slack, ANA)
    url = f"{bridge.url}/slack/events"
    promo, _ = await agent_replies(
        bridge, slack, thread, "Your cake is ready! Use promo code SWEET for 20% off"
    )
    await eventually(lambda: any("reads like marketing" in t for t in ephemerals(slack)))
    note = held_note(slack)
    held_id = note.blocks[1]["elements"][0]["value"]
    edit = slack.block_action(AGENT, "held_edit", held_id, channel=INBOX, message_ts=note.ts)
    await slack.deliver(url, edit, kind="interactive")
    await eventually(lambda: AGENT in slack.modals)
    sent = slack.view_submission(AGENT, {"reply_block": {"reply": "Your cake is ready!"}})
    assert (await slack.deliver(url, sent, kind="interactive")).status == 200
    await eventually(lambda: [m.body for m in twilio.sent] == ["Your cake is ready!"])

    # The thread shows what went out, and the held note is settled: no more buttons.
    def shown() -> list[Any]:
        return [
            m for m in slack.replies(INBOX, thread) if m.bot_id and "Your cake is ready!" in m.text
        ]

    await eventually(lambda: bool(shown()))
    settled = next(e for e in slack.ephemerals if e.ts == note.ts)
    assert "held_edit" not in json.dumps(settled.blocks)
    # Delivered: the mark goes on what was sent, not on the promotion that was not.
    await twilio.send_status(twilio.sent[0].sid, "delivered")
    await eventually(lambda: DELIVERED in shown()[0].reactions)
    promotion = slack.message(INBOX, promo["event"]["ts"])
    assert promotion is not None
    assert DELIVERED not in promotion.reactions


@pytest.mark.parametrize("body", ["HELP!", "info", "Info.", "help?"])
async def test_help_and_info_are_answered_with_the_business_contact_whatever_the_punctuation(
    bridge: BridgeUnderTest, twilio: TwilioEmulator, body: str
) -> None:
    # CTIA and carriers treat INFO as HELP; the first text of a new subscriber counts too.
    await bridge.text(ANA, body)
    await eventually(lambda: len(twilio.sent) == 1)
    assert "Call (415) 555-0188" in twilio.sent[0].body
