"""The compliance acceptance checks, against `sms-bridge serve` as a process."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

from bridge.sandbox.slack_emulator import SlackEmulator
from bridge.sandbox.twilio_emulator import TwilioEmulator
from tests.e2e.conftest import ServeProcess, client
from tests.support import AGENT, INBOX, agent_replies, eventually, open_thread, thread_texts

pytestmark = pytest.mark.e2e

ANA = "+14155550123"


async def test_keywords_consent_and_the_guard(
    serve: Callable[..., ServeProcess],
    slack: SlackEmulator,
    twilio: TwilioEmulator,
    tmp_path: Path,
) -> None:
    config = tmp_path / "bridge.yml"
    config.write_text(
        "business:\n  name: Harbor Street Bakery\n  contact: Call (415) 555-0188\n"
        "slack:\n  undo_seconds: 0\n"
    )
    twilio.keyword_opt_out = False  # what the bridge does, apart from Twilio's own block
    slack.add_user(AGENT, "ana", "Ana Ruiz", display_name="Ana")
    slack.join(INBOX, AGENT)
    process = serve(BRIDGE_CONFIG=str(config))
    await process.start()
    bridge = client(process, twilio)
    thread = await open_thread(bridge, slack, ANA)

    # STOP: a note instead of a message, no text from the bridge, replies refused.
    await bridge.text(ANA, "STOP")
    await eventually(lambda: any("Opted out via STOP" in t for t in thread_texts(slack, "0123")))
    await agent_replies(bridge, slack, thread, "Are you sure?")
    await eventually(
        lambda: any(
            "opted out" in str(c.args["text"]) for c in slack.calls_to("chat.postEphemeral")
        )
    )
    await asyncio.sleep(0.5)
    assert twilio.sent == []
    assert "STOP" not in thread_texts(slack, "0123")

    # START: replies go out again. HELP: one text with the business's contact.
    await bridge.text(ANA, "START")
    await agent_replies(bridge, slack, thread, "Welcome back")
    await eventually(lambda: [m.body for m in twilio.sent] == ["Welcome back"])
    await bridge.text(ANA, "help")
    await eventually(lambda: len(twilio.sent) == 2)
    assert twilio.sent[1].body.startswith("Harbor Street Bakery: Call (415) 555-0188.")

    # A plain-language revocation: exactly one confirmation, even when Twilio retries.
    sid = "SM" + "9" * 32
    await bridge.text(ANA, "please stop texting me", sid=sid)
    await bridge.text(ANA, "please stop texting me", sid=sid)
    await eventually(lambda: len(twilio.sent) == 3)
    await asyncio.sleep(0.5)
    assert len(twilio.sent) == 3
    assert "unsubscribed" in twilio.sent[2].body
    assert "opted out" in str(slack.message(INBOX, thread).blocks)
