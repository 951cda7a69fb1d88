"""Notification rules through the real bridge app, slack_sdk and aiosmtplib against the
emulators and a local SMTP server (aiosmtpd): an urgent text alerts the on-call person
at once by Slack DM and email; a general text waits for the digest; a mail server that
fails is retried without holding up the inbox, and the mail goes out once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from email.message import EmailMessage

import pytest

from bridge.config import BusinessConfig
from bridge.sandbox.mail_server import MailServer, html_body, plain_body
from bridge.sandbox.slack_emulator import SlackEmulator
from bridge.sandbox.twilio_emulator import TwilioEmulator
from tests.support import (
    AGENT,
    INBOX,
    BridgeUnderTest,
    agent_replies,
    bounded,
    eventually,
    open_thread,
    thread_texts,
)

ANA = "+14155550123"
BEN = "+14155550124"
ON_CALL = "U0ONCALL"
URGENT = "URGENT: my cake never arrived and the party starts in an hour!"
GENERAL = "Do you bake rye bread on Saturdays?"


@pytest.fixture
async def mail() -> AsyncIterator[MailServer]:
    server = MailServer()
    await server.start()
    yield server
    await bounded(server.stop())


@pytest.fixture
def business_config(mail: MailServer) -> BusinessConfig:
    port = mail.port
    return BusinessConfig.model_validate(
        {
            "business": {"name": "Harbor Street Bakery"},
            "slack": {"undo_seconds": 0},
            "notifications": {
                "email": {"smtp_url": f"smtp://127.0.0.1:{port}", "from": "bridge@bakery.example"},
                "on_call": ON_CALL,
                "rules": [
                    {
                        "on": "message.received",
                        "when": {"urgency": "urgent"},
                        "notify": ["on_call"],
                        "via": ["slack_dm", "email"],
                    },
                    {
                        "on": "message.received",
                        "when": {"urgency": ["low", "normal"]},
                        "digest_minutes": 0.05,  # 3 s periods: the test waits for one
                        "notify": ["on_call"],
                        "via": ["email"],
                    },
                    {"on": "delivery.failed", "notify": ["on_call"], "via": "slack_mention"},
                ],
            },
        }
    )


@pytest.fixture(autouse=True)
def on_call(slack: SlackEmulator) -> None:
    # The address comes from the Slack profile (users.info, users:read.email).
    slack.add_user(ON_CALL, "olga", "Olga On-Call", email="olga@bakery.example")
    slack.add_user(AGENT, "ana", "Ana Ruiz", display_name="Ana")
    slack.join(INBOX, AGENT)


def subjects(mail: MailServer) -> list[str]:
    return [str(m["Subject"]) for m in mail.mails]


def digests(mail: MailServer) -> list[EmailMessage]:
    return [m for m in mail.mails if "Digest:" in str(m["Subject"])]


async def test_an_urgent_text_alerts_the_on_call_person_by_dm_and_email_at_once(
    bridge: BridgeUnderTest, slack: SlackEmulator, mail: MailServer
) -> None:
    await bridge.text(ANA, URGENT)
    await eventually(lambda: len(slack.messages(ON_CALL)) == 1 and len(mail.mails) == 1)
    [dm] = slack.messages(ON_CALL)
    assert "Urgent text from +1 415-555-0123" in dm.text
    assert "my cake never arrived" in dm.text
    [sent] = mail.mails
    assert sent["To"] == "olga@bakery.example"
    assert sent["From"] == "bridge@bakery.example"
    assert "Urgent text from +1 415-555-0123" in str(sent["Subject"])
    assert URGENT in plain_body(sent)
    assert "<strong>Urgent text from" in html_body(sent)
    await bridge.idle()
    assert len(mail.mails) == 1  # no digest repeats it


async def test_a_general_text_is_in_the_next_digest_and_not_sent_alone(
    bridge: BridgeUnderTest, slack: SlackEmulator, mail: MailServer
) -> None:
    await bridge.text(ANA, GENERAL)
    await bridge.text(BEN, "Thanks, see you soon")
    await eventually(
        lambda: sum(plain_body(m).count("- New text") for m in digests(mail)) == 2, within=30
    )
    await bridge.idle()
    assert digests(mail) == mail.mails  # nothing went out alone
    assert slack.messages(ON_CALL) == []  # and no DM: the digest rule mails only
    text = "".join(plain_body(m) for m in mail.mails)
    assert GENERAL in text
    assert "+1 415-555-0124" in text


async def test_a_failing_mail_server_is_retried_sends_once_and_holds_up_no_text(
    bridge: BridgeUnderTest, slack: SlackEmulator, mail: MailServer
) -> None:
    mail.refuse = 3
    await bridge.text(ANA, URGENT)
    await eventually(lambda: any("my cake never arrived" in t for t in thread_texts(slack, "0123")))
    await eventually(lambda: len(mail.mails) == 1, within=30)
    await bridge.idle()
    assert mail.refuse == 0
    assert len(mail.mails) == 1
    assert [m.text for m in slack.messages(INBOX)]  # the thread is there


async def test_a_failed_delivery_mentions_the_on_call_person_in_the_thread(
    bridge: BridgeUnderTest, slack: SlackEmulator, twilio: TwilioEmulator
) -> None:
    thread = await open_thread(bridge, slack, ANA)
    twilio.fail(status=400, code=21211, endpoint="messages.create")
    await agent_replies(bridge, slack, thread, "Your order is ready!")
    await eventually(
        lambda: any(
            f"<@{ON_CALL}>" in t and "was not delivered" in t for t in thread_texts(slack, "0123")
        )
    )
