"""Agents' replies: the real Bolt app, slack_sdk and twilio clients against the
project's emulators."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from bridge.app import build_app
from bridge.config import BusinessConfig, load_settings
from bridge.sandbox.slack_emulator import SlackEmulator
from bridge.sandbox.twilio_emulator import TwilioEmulator
from bridge.slack.jobs.delivery_marks import DELIVERED
from tests.support import (
    AGENT,
    BUSINESS,
    INBOX,
    PUBLIC_URL,
    SHUTDOWN_SECONDS,
    BridgeUnderTest,
    agent_replies,
    bounded,
    bridge_env,
    eventually,
    open_thread,
)

ANA = "+14155550123"
UNDO = 0.4


@pytest.fixture
def business_config() -> BusinessConfig:
    return BusinessConfig.model_validate({"slack": {"undo_seconds": UNDO}})


@pytest.fixture(autouse=True)
def people(slack: SlackEmulator) -> None:
    slack.add_user(AGENT, "ana", "Ana Ruiz", display_name="Ana")
    slack.add_user("U0BEN", "ben", "Ben Ode", display_name="Ben")
    slack.join(INBOX, AGENT, "U0BEN")  # only members of the inbox text customers


async def test_a_reply_is_one_plain_text_sms_from_the_business_number(
    bridge: BridgeUnderTest, slack: SlackEmulator, twilio: TwilioEmulator
) -> None:
    thread = await open_thread(bridge, slack, ANA)
    _, response = await agent_replies(
        bridge,
        slack,
        thread,
        "Hi! <@U0BEN> will call you :smile: — see <https://x.example|our site>",
    )
    assert response.status == 200
    await eventually(lambda: len(twilio.sent) == 1)
    [sms] = twilio.sent
    assert sms.to == ANA
    assert sms.from_ == BUSINESS
    assert sms.body == "Hi! @Ben will call you 😄 - see our site (https://x.example)"
    assert sms.status_callback == f"{PUBLIC_URL}/sms/status"


async def test_the_undo_window_holds_the_send(
    bridge: BridgeUnderTest, slack: SlackEmulator, twilio: TwilioEmulator
) -> None:
    thread = await open_thread(bridge, slack, ANA)
    replied = time.time()
    await agent_replies(bridge, slack, thread, "wait for it")
    await eventually(lambda: len(twilio.sent) == 1)
    [send] = twilio.calls_to("messages.create")
    assert send.time - replied >= UNDO  # by the emulator's clock: a busy machine only adds


async def test_bots_notes_and_other_threads_send_nothing(
    bridge: BridgeUnderTest, slack: SlackEmulator, twilio: TwilioEmulator
) -> None:
    thread = await open_thread(bridge, slack, ANA)
    await agent_replies(bridge, slack, thread, "note: customer sounds upset")
    await agent_replies(bridge, slack, thread, "NOTE: also internal")
    bot = slack.user_posts(INBOX, "U0OTHERBOT", "I am a bot", thread_ts=thread)
    await slack.deliver(f"{bridge.url}/slack/events", bot | {"bot_id": "B0OTHER"})
    root = slack.user_posts(INBOX, AGENT, "a message at the channel root")
    await slack.deliver(f"{bridge.url}/slack/events", root)
    joined = slack.user_posts(INBOX, AGENT, "joined", thread_ts=thread)
    await slack.deliver(f"{bridge.url}/slack/events", joined | {"subtype": "channel_join"})
    await agent_replies(bridge, slack, thread, "the real one")
    await eventually(lambda: len(twilio.sent) == 1)
    await asyncio.sleep(UNDO + 0.2)
    assert [m.body for m in twilio.sent] == ["the real one"]


async def test_a_retried_event_sends_once(
    bridge: BridgeUnderTest, slack: SlackEmulator, twilio: TwilioEmulator
) -> None:
    thread = await open_thread(bridge, slack, ANA)
    envelope, first = await agent_replies(bridge, slack, thread, "only once")
    retry = await slack.deliver(f"{bridge.url}/slack/events", envelope, retry_num=1)
    assert (first.status, retry.status) == (200, 200)
    await eventually(lambda: len(twilio.sent) == 1)
    await asyncio.sleep(UNDO + 0.2)
    assert len(twilio.sent) == 1


async def test_a_bad_slack_signature_is_401_and_changes_nothing(
    bridge: BridgeUnderTest, slack: SlackEmulator, twilio: TwilioEmulator
) -> None:
    thread = await open_thread(bridge, slack, ANA)
    event = slack.user_posts(INBOX, AGENT, "forged", thread_ts=thread)
    body = json.dumps(slack.envelope(event))
    headers = {"X-Slack-Signature": "v0=bad", "X-Slack-Request-Timestamp": str(int(time.time()))}
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{bridge.url}/slack/events", data=body, headers=headers) as r,
    ):
        assert r.status == 401
    stale = await slack.deliver(f"{bridge.url}/slack/events", event, timestamp=1)
    assert stale.status == 401
    await asyncio.sleep(UNDO + 0.2)
    assert twilio.sent == []


async def test_url_verification_is_answered(bridge: BridgeUnderTest, slack: SlackEmulator) -> None:
    response = await slack.deliver(
        f"{bridge.url}/slack/events", {"type": "url_verification", "challenge": "c-123"}
    )
    assert response.status == 200
    assert "c-123" in response.text


async def test_an_edit_in_the_window_sends_the_corrected_text(
    bridge: BridgeUnderTest, slack: SlackEmulator, twilio: TwilioEmulator
) -> None:
    thread = await open_thread(bridge, slack, ANA)
    envelope, _ = await agent_replies(bridge, slack, thread, "See you at 5")
    edit = slack.user_edits(INBOX, envelope["event"]["ts"], "See you at 6")
    assert (await slack.deliver(f"{bridge.url}/slack/events", edit)).status == 200
    await eventually(lambda: len(twilio.sent) == 1)
    assert twilio.sent[0].body == "See you at 6"


async def test_a_delete_in_the_window_sends_nothing(
    bridge: BridgeUnderTest, slack: SlackEmulator, twilio: TwilioEmulator
) -> None:
    thread = await open_thread(bridge, slack, ANA)
    envelope, _ = await agent_replies(bridge, slack, thread, "oops, wrong customer")
    deleted = slack.user_deletes(INBOX, envelope["event"]["ts"])
    assert (await slack.deliver(f"{bridge.url}/slack/events", deleted)).status == 200
    await agent_replies(bridge, slack, thread, "the right one")
    await eventually(lambda: len(twilio.sent) == 1)
    await asyncio.sleep(UNDO + 0.2)
    assert [m.body for m in twilio.sent] == ["the right one"]


async def test_an_edit_after_sending_is_not_resent_and_the_agent_is_told(
    bridge: BridgeUnderTest, slack: SlackEmulator, twilio: TwilioEmulator
) -> None:
    thread = await open_thread(bridge, slack, ANA)
    envelope, _ = await agent_replies(bridge, slack, thread, "Open until 6")
    await eventually(lambda: len(twilio.sent) == 1)
    edit = slack.user_edits(INBOX, envelope["event"]["ts"], "Open until 7")
    await slack.deliver(f"{bridge.url}/slack/events", edit)
    await eventually(lambda: any("already sent" in e["text"] for e in _ephemerals(slack)))
    assert len(twilio.sent) == 1


def _ephemerals(slack: SlackEmulator) -> list[dict[str, str]]:
    return [dict(c.args) for c in slack.calls_to("chat.postEphemeral") if not c.failed]


async def test_delivery_and_failure_show_on_the_agents_message(
    bridge: BridgeUnderTest, slack: SlackEmulator, twilio: TwilioEmulator
) -> None:
    thread = await open_thread(bridge, slack, ANA)
    good, _ = await agent_replies(bridge, slack, thread, "first")
    await eventually(lambda: len(twilio.sent) == 1)
    await twilio.send_status(twilio.sent[0].sid, "sent")
    await twilio.send_status(twilio.sent[0].sid, "delivered")
    await twilio.send_status(twilio.sent[0].sid, "sent")  # late and out of order: ignored
    good_ts = good["event"]["ts"]
    await eventually(lambda: DELIVERED in slack.message(INBOX, good_ts).reactions)

    bad, _ = await agent_replies(bridge, slack, thread, "second")
    await eventually(lambda: len(twilio.sent) == 2)
    await twilio.send_status(twilio.sent[1].sid, "failed", error_code=30003)
    bad_ts = bad["event"]["ts"]
    await eventually(lambda: "warning" in slack.message(INBOX, bad_ts).reactions)
    await eventually(
        lambda: any("unreachable handset" in m.text for m in slack.replies(INBOX, thread))
    )
    assert "warning" not in slack.message(INBOX, good_ts).reactions


async def test_opted_out_21610_blocks_later_replies_with_an_explanation(
    bridge: BridgeUnderTest, slack: SlackEmulator, twilio: TwilioEmulator
) -> None:
    thread = await open_thread(bridge, slack, ANA)
    twilio.opt_out(ANA)  # the subscriber replied STOP to Twilio
    await agent_replies(bridge, slack, thread, "are you there?")
    await eventually(lambda: bool(twilio.calls_to("messages.create")))
    await agent_replies(bridge, slack, thread, "hello?")
    await eventually(lambda: any("opted out" in e["text"] for e in _ephemerals(slack)))
    await asyncio.sleep(UNDO + 0.2)
    assert twilio.sent == []
    assert len(twilio.calls_to("messages.create")) == 1  # the second was refused by the bridge
    note = next(e for e in _ephemerals(slack) if "opted out" in e["text"])
    assert note["user"] == AGENT
    assert note["thread_ts"] == thread


async def test_twilio_500s_delay_the_reply_which_is_then_sent_once(
    bridge: BridgeUnderTest, slack: SlackEmulator, twilio: TwilioEmulator
) -> None:
    thread = await open_thread(bridge, slack, ANA)
    twilio.fail(status=500, times=3, endpoint="messages.create")
    await agent_replies(bridge, slack, thread, "eventually")
    await eventually(lambda: len(twilio.sent) == 1)
    await asyncio.sleep(0.5)
    assert len(twilio.sent) == 1


async def test_a_lost_answer_is_resolved_without_a_second_send(
    bridge: BridgeUnderTest, slack: SlackEmulator, twilio: TwilioEmulator
) -> None:
    thread = await open_thread(bridge, slack, ANA)
    twilio.lose_answers = 1  # Twilio sends it but the bridge sees a 500
    await agent_replies(bridge, slack, thread, "exactly once")
    await eventually(lambda: bool(twilio.calls_to("messages.list")))
    await asyncio.sleep(0.5)
    assert [m.body for m in twilio.sent] == ["exactly once"]


async def test_a_reply_like_a_recent_one_is_sent_after_a_twilio_error(
    bridge: BridgeUnderTest, slack: SlackEmulator, twilio: TwilioEmulator
) -> None:
    thread = await open_thread(bridge, slack, ANA)
    await agent_replies(bridge, slack, thread, "ok thanks")
    await eventually(lambda: len(twilio.sent) == 1)
    twilio.fail(status=500, times=1, endpoint="messages.create")  # nothing sent: a plain error
    again, _ = await agent_replies(bridge, slack, thread, "ok thanks")
    # The first "ok thanks" is the first reply's: the retry must not take it for its own.
    await eventually(lambda: len(twilio.sent) == 2)
    assert [m.body for m in twilio.sent] == ["ok thanks", "ok thanks"]
    await twilio.send_status(twilio.sent[1].sid, "delivered")
    again_ts = again["event"]["ts"]
    await eventually(lambda: DELIVERED in slack.message(INBOX, again_ts).reactions)


async def test_long_or_unicode_replies_tell_the_agent_what_they_cost(
    bridge: BridgeUnderTest, slack: SlackEmulator, twilio: TwilioEmulator
) -> None:
    thread = await open_thread(bridge, slack, ANA)
    await agent_replies(bridge, slack, thread, "Thanks! 🎉 " + "x" * 70)
    await eventually(lambda: any("segments" in e["text"] for e in _ephemerals(slack)))
    note = next(e["text"] for e in _ephemerals(slack) if "segments" in e["text"])
    assert "2 SMS segments" in note
    assert "🎉" in note
    await agent_replies(bridge, slack, thread, "y" * 1601)
    await eventually(lambda: any("1600" in e["text"] for e in _ephemerals(slack)))
    await eventually(lambda: len(twilio.sent) == 1)
    await asyncio.sleep(UNDO + 0.2)
    assert len(twilio.sent) == 1


async def test_socket_mode_delivers_replies_without_a_public_url(
    slack: SlackEmulator, twilio: TwilioEmulator, db_path: Path
) -> None:
    env = {k.lower(): v for k, v in bridge_env(slack, twilio, db_path).items()}
    env |= {"slack_app_token": slack.app_token, "slack_signing_secret": None}
    config = BusinessConfig.model_validate({"slack": {"undo_seconds": 0}})
    app = await build_app(load_settings(**env), config)
    runner = web.AppRunner(app, shutdown_timeout=SHUTDOWN_SECONDS)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    bridge = BridgeUnderTest(url=f"http://127.0.0.1:{runner.addresses[0][1]}", twilio=twilio)
    try:
        await eventually(lambda: slack.socket_connections == 1)
        # No signing secret: the HTTP endpoint does not exist, so nothing can forge it.
        forged = await slack.deliver(f"{bridge.url}/slack/events", {"type": "event_callback"})
        assert forged.status == 404
        thread = await open_thread(bridge, slack, ANA)
        event = slack.user_posts(INBOX, AGENT, "over the socket", thread_ts=thread)
        ack = await slack.socket_deliver(event)
        assert ack["envelope_id"]
        await eventually(lambda: [m.body for m in twilio.sent] == ["over the socket"])
    finally:
        await bounded(runner.cleanup())


async def test_an_edit_cannot_turn_a_reply_into_marketing_or_a_note(
    bridge: BridgeUnderTest, slack: SlackEmulator, twilio: TwilioEmulator
) -> None:
    thread = await open_thread(bridge, slack, ANA)
    url = f"{bridge.url}/slack/events"
    first, _ = await agent_replies(bridge, slack, thread, "See you Friday")
    await slack.deliver(url, slack.user_edits(INBOX, first["event"]["ts"], "50% off, shop now"))
    second, _ = await agent_replies(bridge, slack, thread, "Call you soon")
    await slack.deliver(url, slack.user_edits(INBOX, second["event"]["ts"], "note: VIP"))
    await eventually(lambda: len([t for t in _texts(slack) if "Not sent" in t]) == 2)
    await asyncio.sleep(UNDO + 0.3)
    assert twilio.sent == []


async def test_a_deleted_reply_does_not_hold_up_the_conversation(
    bridge: BridgeUnderTest, slack: SlackEmulator, twilio: TwilioEmulator
) -> None:
    thread = await open_thread(bridge, slack, ANA)
    reply, _ = await agent_replies(bridge, slack, thread, "Done!")
    await eventually(lambda: len(twilio.sent) == 1)
    slack.delete_message(INBOX, reply["event"]["ts"])  # gone before the callback comes
    await twilio.send_status(twilio.sent[0].sid, "delivered")
    await bridge.text(ANA, "thanks!")
    await eventually(lambda: "thanks!" in [m.text for m in slack.replies(INBOX, thread)])


def _texts(slack: SlackEmulator) -> list[str]:
    return [str(c.args["text"]) for c in slack.calls_to("chat.postEphemeral") if not c.failed]


async def test_replies_waiting_for_the_sender_rate_do_not_hold_up_incoming_texts(
    bridge: BridgeUnderTest, slack: SlackEmulator, twilio: TwilioEmulator
) -> None:
    # 1 text a second from the business number (the default): a backlog of replies.
    # More conversations than workers (8): each has a reply waiting for the sender.
    threads = [await open_thread(bridge, slack, f"+1415555{3000 + n:04d}") for n in range(10)]
    for n in range(12):
        await agent_replies(bridge, slack, threads[n % 10], f"reply {n}")
    await asyncio.sleep(UNDO + 0.5)
    await bridge.text(ANA, "are you there?")
    await eventually(
        lambda: (
            "are you there?" in str([m.text for m in slack.messages(INBOX)])
            or any("are you there?" in t for t in _all_thread_texts(slack))
        ),
        within=5.0,  # the backlog takes 12 s; a busy machine may take a while to post
    )
    assert len(twilio.sent) < 12  # the backlog was still draining


def _all_thread_texts(slack: SlackEmulator) -> list[str]:
    return [r.text for p in slack.messages(INBOX) for r in slack.replies(INBOX, p.ts)]
