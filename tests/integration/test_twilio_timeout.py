"""A Twilio call that does not answer ends at the client's timeout. twilio's async HTTP
client keeps the timeout it is given but never applies it (twilio/twilio-python#925):
without the bridge's own client, a send Twilio held would hold its worker for as long,
and the reply sender's one-minute bound on a send still in flight would not hold."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.app import make_twilio_client
from bridge.config import load_settings
from bridge.delivery.errors import RetryLater
from bridge.delivery.pacing import Rate
from bridge.delivery.shared_pacing import make_pacer
from bridge.models import utcnow
from bridge.sandbox.slack_emulator import SlackEmulator
from bridge.sandbox.twilio_emulator import TwilioEmulator
from bridge.sms.sender import TwilioSender
from bridge.threading.sending import ErrorAnswered, NotTaken, Sender
from tests.support import bridge_env

BUSINESS = "+14155550100"
ANA = "+14155550123"
TIMEOUT = 0.2
HELD = 2.0  # how long the emulator holds every call: far past the timeout


async def test_a_send_twilio_holds_ends_at_the_timeout_with_its_outcome_unknown(
    slack: SlackEmulator, twilio: TwilioEmulator, tmp_path: Path
) -> None:
    env = bridge_env(slack, twilio, tmp_path / "bridge.db")
    settings = load_settings(**{key.lower(): value for key, value in env.items()})
    client = make_twilio_client(settings, timeout=TIMEOUT)
    pacer = make_pacer(lambda _sender: Rate(100, 10), shared=None)
    sender = TwilioSender(
        client, pacer, account_sid=settings.twilio_account_sid, status_callback="http://x/"
    )
    twilio.delay_seconds = HELD
    try:
        with pytest.raises(RetryLater) as unknown:
            await sender.send(ANA, Sender(from_number=BUSINESS), "are you there?")
        # Neither "not taken" nor "answered": the message may yet be made, so the next
        # attempt looks for it before sending again.
        assert not isinstance(unknown.value, NotTaken | ErrorAnswered)
        with pytest.raises(RetryLater):
            await sender.find_sent(
                ANA, Sender(from_number=BUSINESS), "are you there?", since=utcnow()
            )
    finally:
        twilio.delay_seconds = 0.0
        await pacer.close()
        await client.http_client.close()
