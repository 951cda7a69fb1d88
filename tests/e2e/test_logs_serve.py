"""The serve log at info level: every line JSON, and no phone number or message text in
it, whichever library wrote the line."""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Callable
from urllib.parse import quote

import aiohttp
import pytest

from bridge.sandbox.slack_emulator import SlackEmulator
from bridge.sandbox.twilio_emulator import TwilioEmulator
from bridge.sandbox.wiring import BUSINESS, PUBLIC_URL
from tests.e2e.conftest import ServeProcess, client
from tests.support import AGENT, INBOX, agent_replies, eventually, open_thread

pytestmark = pytest.mark.e2e

ANA = "+14155550123"
BEA = "+14155550124"
WHATSAPP = "whatsapp:+14155550125"
MALFORMED_FROM = "1415555012799"  # too long to be a number: refused, and never logged
NUMBERS = [ANA, BEA, WHATSAPP.removeprefix("whatsapp:"), BUSINESS, "+" + MALFORMED_FROM]
TEXTS = [
    "Hello?",
    "my order 7781 never came",
    "bonjour depuis whatsapp",
    "refund on the way, code swordfish",
    "forged reply with a secret",
    "stale reply with a secret",
    "malformed webhook text",
]


def leaks(line: str) -> list[str]:
    """Numbers (E.164, URL-encoded, national digits or formatted) and texts in `line`."""
    found = [text for text in TEXTS if text in line]
    for number in NUMBERS:
        national = number[-10:]
        forms = [number, quote(number, safe=""), national, f"{national[:3]}-{national[3:6]}-"]
        found += [form for form in forms if form in line]
    return found


async def test_the_log_is_json_lines_without_numbers_or_texts(
    serve: Callable[..., ServeProcess], slack: SlackEmulator, twilio: TwilioEmulator
) -> None:
    slack.add_user(AGENT, "ana", "Ana Ruiz", display_name="Ana")
    slack.join(INBOX, AGENT)
    process = serve(BRIDGE_LOG_LEVEL="info")
    await process.start()
    bridge = client(process, twilio)
    events = f"{process.url}/slack/events"

    thread = await open_thread(bridge, slack, ANA)
    await bridge.text(BEA, TEXTS[1])
    await twilio.send_inbound(
        f"{process.url}/sms/inbound",
        public_url=f"{PUBLIC_URL}/sms/inbound",
        from_=WHATSAPP,
        to=f"whatsapp:{BUSINESS}",
        body=TEXTS[2],
    )
    await agent_replies(bridge, slack, thread, TEXTS[3])
    await eventually(lambda: len(twilio.sent) == 1, within=15)
    await twilio.send_status(twilio.sent[0].sid, "undelivered", error_code=30003)

    forged = slack.envelope(slack.user_posts(INBOX, AGENT, TEXTS[4], thread_ts=thread))
    headers = {"X-Slack-Signature": "v0=bad", "X-Slack-Request-Timestamp": str(int(time.time()))}
    async with aiohttp.ClientSession() as http, http.post(events, json=forged, headers=headers):
        pass
    stale = slack.user_posts(INBOX, AGENT, TEXTS[5], thread_ts=thread)
    assert (await slack.deliver(events, stale, timestamp=int(time.time()) - 600)).status == 401
    malformed = await twilio.send_inbound(
        f"{process.url}/sms/inbound",
        public_url=f"{PUBLIC_URL}/sms/inbound",
        from_=MALFORMED_FROM,
        to=BUSINESS,
        body=TEXTS[6],
    )
    assert malformed.status == 400
    await eventually(lambda: len(slack.messages(INBOX)) >= 3, within=15)
    await process.kill(signal.SIGTERM)

    lines = [line for line in process.log.read_text().splitlines() if line.strip()]
    assert any('"sms.inbound"' in line for line in lines)  # info lines are there
    for line in lines:
        assert isinstance(json.loads(line), dict), line
        assert not leaks(line), line
