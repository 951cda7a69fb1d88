"""The outbound acceptance checks, against `sms-bridge serve` as a process, with
Slack requests signed by the real signing code."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable
from pathlib import Path

import pytest

from bridge.sandbox.slack_emulator import SlackEmulator
from bridge.sandbox.twilio_emulator import TwilioEmulator
from tests.e2e.conftest import ServeProcess, client
from tests.support import AGENT, INBOX, agent_replies, eventually, open_thread

pytestmark = pytest.mark.e2e

ANA = "+14155550123"


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "bridge.yml"
    path.write_text("slack:\n  undo_seconds: 1\n")
    return path


@pytest.fixture(autouse=True)
def people(slack: SlackEmulator) -> None:
    slack.add_user(AGENT, "ana", "Ana Ruiz", display_name="Ana")
    slack.add_user("U0BEN", "ben", "Ben Ode", display_name="Ben")
    slack.join(INBOX, AGENT, "U0BEN")


def ephemerals(slack: SlackEmulator) -> list[str]:
    return [str(c.args["text"]) for c in slack.calls_to("chat.postEphemeral") if not c.failed]


async def test_replies_reach_the_phone_once_and_report_back(
    serve: Callable[..., ServeProcess],
    slack: SlackEmulator,
    twilio: TwilioEmulator,
    config_file: Path,
) -> None:
    process = serve(BRIDGE_CONFIG=str(config_file))
    await process.start()
    bridge = client(process, twilio)
    thread = await open_thread(bridge, slack, ANA)
    url = f"{process.url}/slack/events"

    # A reply (retried by Slack), a note and a bot message: one SMS, in plain text.
    envelope, first = await agent_replies(bridge, slack, thread, "Hi, <@U0BEN> here :wave:")
    retried = await slack.deliver(url, envelope, retry_num=1)
    assert (first.status, retried.status) == (200, 200)
    await agent_replies(bridge, slack, thread, "note: VIP customer")
    bot = slack.user_posts(INBOX, "U0BOT", "beep", thread_ts=thread) | {"bot_id": "B0X"}
    await slack.deliver(url, bot)
    forged = await slack.deliver(
        url, slack.user_posts(INBOX, AGENT, "x", thread_ts=thread), timestamp=1
    )
    assert forged.status == 401
    await eventually(lambda: len(twilio.sent) == 1)
    assert twilio.sent[0].body == "Hi, @Ben here 👋"

    # An edit inside the window is what goes out; a delete sends nothing.
    edited, _ = await agent_replies(bridge, slack, thread, "Open til 5")
    await slack.deliver(url, slack.user_edits(INBOX, edited["event"]["ts"], "Open til 6"))
    deleted, _ = await agent_replies(bridge, slack, thread, "wrong thread, sorry")
    await slack.deliver(url, slack.user_deletes(INBOX, deleted["event"]["ts"]))
    await eventually(lambda: len(twilio.sent) == 2)
    await asyncio.sleep(1.5)
    assert [m.body for m in twilio.sent] == ["Hi, @Ben here 👋", "Open til 6"]

    # Twilio reports a failure: the thread says why, in words.
    await twilio.send_status(twilio.sent[1].sid, "undelivered", error_code=30003)
    await eventually(
        lambda: any("unreachable handset" in m.text for m in slack.replies(INBOX, thread))
    )

    # 21610: the subscriber opted out; the next replies are refused with a reason.
    twilio.opt_out(ANA)
    await agent_replies(bridge, slack, thread, "still there?")
    await eventually(lambda: len(twilio.calls_to("messages.create")) == 3)
    await agent_replies(bridge, slack, thread, "hello?")
    await eventually(lambda: any("opted out" in text for text in ephemerals(slack)))
    await asyncio.sleep(1.5)
    assert len(twilio.calls_to("messages.create")) == 3


async def test_a_crash_between_acknowledgement_and_send_still_sends_once(
    serve: Callable[..., ServeProcess],
    slack: SlackEmulator,
    twilio: TwilioEmulator,
    config_file: Path,
) -> None:
    first = serve(BRIDGE_CONFIG=str(config_file))
    await first.start()
    bridge = client(first, twilio)
    thread = await open_thread(bridge, slack, ANA)
    _, acked = await agent_replies(bridge, slack, thread, "survives the crash")
    assert acked.status == 200
    await first.kill(signal.SIGKILL)  # inside the undo window: stored, not yet sent

    second = serve(BRIDGE_CONFIG=str(config_file))
    await second.start()
    client(second, twilio)
    await eventually(lambda: len(twilio.sent) == 1)
    await asyncio.sleep(1)
    assert [m.body for m in twilio.sent] == ["survives the crash"]


async def test_a_crash_during_the_twilio_call_never_sends_twice(
    serve: Callable[..., ServeProcess],
    slack: SlackEmulator,
    twilio: TwilioEmulator,
    tmp_path: Path,
) -> None:
    no_undo = tmp_path / "no-undo.yml"
    no_undo.write_text("slack:\n  undo_seconds: 0\n")
    first = serve(BRIDGE_CONFIG=str(no_undo))
    await first.start()
    bridge = client(first, twilio)
    thread = await open_thread(bridge, slack, ANA)
    twilio.delay_seconds = 1.0  # the call is in flight when the process dies
    await agent_replies(bridge, slack, thread, "in flight")
    await eventually(lambda: "messages.create" in twilio.held)
    await first.kill(signal.SIGKILL)
    # Twilio finishes creating it, answering nobody: only a lookup can know.
    await eventually(lambda: len(twilio.sent) == 1)
    twilio.delay_seconds = 0

    second = serve(BRIDGE_CONFIG=str(no_undo))
    await second.start()
    client(second, twilio)
    await eventually(lambda: bool(twilio.calls_to("messages.list")))  # resolved by lookup
    await asyncio.sleep(1)
    assert [m.body for m in twilio.sent] == ["in flight"]
