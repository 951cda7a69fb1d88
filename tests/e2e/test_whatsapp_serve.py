"""WhatsApp against `sms-bridge serve` as a process: a `whatsapp:` text on the one
inbound webhook opens its own thread, and the agent's reply goes back on WhatsApp."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bridge.sandbox.slack_emulator import SlackEmulator
from bridge.sandbox.twilio_emulator import TwilioEmulator
from tests.e2e.conftest import ServeProcess, client
from tests.support import (
    AGENT,
    BUSINESS,
    INBOX,
    agent_replies,
    eventually,
    parents,
    whatsapp_parents,
)

pytestmark = pytest.mark.e2e

ANA = "+14155550123"


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "bridge.yml"
    path.write_text("slack:\n  undo_seconds: 0\n")
    return path


async def test_a_whatsapp_text_gets_its_thread_and_the_reply_goes_back_on_whatsapp(
    serve: Callable[..., ServeProcess],
    slack: SlackEmulator,
    twilio: TwilioEmulator,
    config_file: Path,
) -> None:
    slack.add_user(AGENT, "ana", "Ana Ruiz", display_name="Ana")
    slack.join(INBOX, AGENT)
    process = serve(BRIDGE_CONFIG=str(config_file), TWILIO_WHATSAPP_NUMBERS=BUSINESS)
    await process.start()
    bridge = client(process, twilio)

    assert (await bridge.text(ANA, "by SMS")).status == 200
    assert (await bridge.whatsapp(ANA, "by WhatsApp")).status == 200
    await eventually(lambda: len(whatsapp_parents(slack)) == 1)
    [thread] = whatsapp_parents(slack)
    await eventually(lambda: [m.text for m in slack.replies(INBOX, thread)] == ["by WhatsApp"])
    # The SMS thread of the same number is another one (the two may post in any order).
    await eventually(
        lambda: (
            [[m.text for m in slack.replies(INBOX, p.ts)] for p in parents(slack)] == [["by SMS"]]
        )
    )

    await agent_replies(bridge, slack, thread, "Hi from the bakery")
    await eventually(lambda: len(twilio.sent) == 1)
    [sent] = twilio.sent
    assert (sent.to, sent.from_, sent.body) == (
        f"whatsapp:{ANA}",
        f"whatsapp:{BUSINESS}",
        "Hi from the bakery",
    )
