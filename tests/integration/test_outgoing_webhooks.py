"""Signed outgoing webhooks (`notifications.webhooks`, named by a rule's `via`), each
delivery a job of its own:
a receiver that verifies the HMAC gets exactly one accepted delivery however often it
failed first (the same `X-Bridge-Delivery` id on every try), and one that keeps failing
is reported in the inbox channel, naming the webhook; the secret appears nowhere."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from bridge.config import BusinessConfig
from bridge.sandbox.slack_emulator import SlackEmulator
from bridge.store.base import Store
from bridge.store.sqlite import SQLiteStore
from tests.support import INBOX, BridgeUnderTest, eventually, on_loopback

SECRET = "whsec-the-receiver-and-the-bridge-share-this"
PHONE = "+14155550199"


@dataclass
class Receiver:
    """A business's endpoint: checks each request's signature, answers `failures` first."""

    failures: list[int] = field(default_factory=list)
    seen: list[dict[str, Any]] = field(default_factory=list)
    accepted: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        stamp, _, signed = request.headers["X-Bridge-Signature"].partition(",")
        t = stamp.removeprefix("t=")
        expected = hmac.new(SECRET.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
        entry = {
            "delivery": request.headers["X-Bridge-Delivery"],
            "valid": hmac.compare_digest(signed, f"sha256={expected}"),
            "body": json.loads(body),
        }
        self.seen.append(entry)
        if self.failures:
            return web.Response(status=self.failures.pop(0))
        self.accepted.append(entry)
        return web.Response(status=204)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    found = Receiver()
    app = web.Application()
    app.router.add_post("/hooks/sms", found.handle)
    async with on_loopback(app) as base:
        found.url = f"{base}/hooks/sms"
        yield found


@pytest.fixture
def business_config(receiver: Receiver) -> BusinessConfig:
    hook = {"name": "crm", "url": receiver.url, "secret": SECRET}
    rule = {"on": ["message.received"], "via": ["webhook:crm"]}
    return BusinessConfig.model_validate({"notifications": {"webhooks": [hook], "rules": [rule]}})


@pytest.fixture
def bridge_store(db_path: Path) -> Store:
    return SQLiteStore(db_path)


async def test_a_receiver_that_fails_three_times_gets_exactly_one_delivery(
    bridge: BridgeUnderTest, bridge_store: Store, receiver: Receiver
) -> None:
    receiver.failures = [500, 502, 429]
    await bridge.text(PHONE, "Is the cake ready?")
    await eventually(lambda: len(receiver.accepted) == 1, within=30)
    await bridge.idle()
    assert len(receiver.seen) == 4
    assert len(receiver.accepted) == 1
    assert all(entry["valid"] for entry in receiver.seen)
    assert len({entry["delivery"] for entry in receiver.seen}) == 1
    body = receiver.accepted[0]["body"]
    assert set(body) == {"event", "conversation", "message", "at"}
    assert body["event"] == "message.received"
    assert body["conversation"]["subscriber"] == PHONE
    assert body["message"]["body"] == "Is the cake ready?"


async def test_a_receiver_that_keeps_failing_is_reported_and_the_secret_is_never_shown(
    bridge: BridgeUnderTest,
    bridge_store: Store,
    receiver: Receiver,
    slack: SlackEmulator,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    receiver.failures = [503] * 100

    def report() -> list[str]:
        return [m.text for m in slack.messages(INBOX) if "gave up" in m.text]

    await bridge.text(PHONE, "Is the cake ready?")
    await eventually(lambda: len(report()) == 1, within=30)
    [text] = report()
    assert "crm" in text
    assert "503" in text
    assert SECRET not in text
    assert all(entry["valid"] for entry in receiver.seen)
    logged = capsys.readouterr()
    logs = logged.out + logged.err + caplog.text
    assert "crm" in logs  # the retries were logged, and what was logged is checked
    assert SECRET not in logs
