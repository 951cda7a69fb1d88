"""The environment that points a bridge at the project's emulators: what an operator
would set, shared by the tests and the benchmarks (the demo builds its settings
whole, so no shell variable can leak into it)."""

from __future__ import annotations

from pathlib import Path

from bridge.sandbox.recorder import WebhookResponse
from bridge.sandbox.slack_emulator import SlackEmulator
from bridge.sandbox.twilio_emulator import TwilioEmulator

BUSINESS = "+14155550100"
PUBLIC_URL = "https://sms.example.test"  # what Twilio signs: the bridge sits behind a proxy
INBOX = "C0INBOX"


def emulator_env(slack: SlackEmulator, twilio: TwilioEmulator, db: Path) -> dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": slack.token,
        "SLACK_SIGNING_SECRET": slack.signing_secret,
        "SLACK_INBOX_CHANNEL": INBOX,
        "SLACK_API_URL": f"{slack.base_url}/api/",
        "TWILIO_ACCOUNT_SID": twilio.account_sid,
        "TWILIO_AUTH_TOKEN": twilio.auth_token,
        "TWILIO_FROM_NUMBER": BUSINESS,
        "TWILIO_API_URL": str(twilio.base_url),
        "BRIDGE_PUBLIC_URL": PUBLIC_URL,
        "BRIDGE_DB_PATH": str(db),
    }


async def text_bridge(
    twilio: TwilioEmulator,
    bridge_url: str,
    from_: str,
    body: str,
    *,
    to: str = BUSINESS,
    sid: str | None = None,
) -> WebhookResponse:
    """A subscriber texts the business: Twilio posts the webhook to the bridge at
    `bridge_url`, signed for the public URL the bridge is set up with."""
    return await twilio.send_inbound(
        f"{bridge_url}/sms/inbound",
        public_url=f"{PUBLIC_URL}/sms/inbound",
        from_=from_,
        to=to,
        body=body,
        message_sid=sid,
    )


def unfinished_jobs(metrics: str) -> int:
    """Jobs not done yet (dead ones aside), as a bridge's /metrics text reports them."""
    total = 0
    for line in metrics.splitlines():
        if line.startswith("bridge_queue_depth{") and 'kind="dead"' not in line:
            total += int(float(line.rsplit(" ", 1)[1]))
    return total
