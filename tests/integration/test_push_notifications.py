"""A notification rule with `via: web_push`, through the whole bridge: a customer's text
reaches the on-call person's subscribed browser as an encrypted push (decrypted here
with the keys the test's browser made), linking the conversation's thread."""

from __future__ import annotations

import json
from pathlib import Path

import http_ece
import pytest

from bridge.config import BusinessConfig
from bridge.store.base import Store
from bridge.store.sqlite import SQLiteStore
from tests.integration.test_web_push import SETTING, Browser, PushService, service, verify_vapid
from tests.support import BridgeUnderTest, eventually

__all__ = ["service"]  # the push service this test runs, shared with the sender's tests

ON_CALL = "U0ONCALL"
PHONE = "+14155550142"


@pytest.fixture
def business_config() -> BusinessConfig:
    push = {
        "vapid_private_key": SETTING.vapid_private_key.get_secret_value(),
        "subject": SETTING.subject,
    }
    rule = {"on": ["message.received"], "notify": ["on_call"], "via": ["web_push"]}
    return BusinessConfig.model_validate(
        {"notifications": {"on_call": ON_CALL, "web_push": push, "rules": [rule]}}
    )


@pytest.fixture
def bridge_store(db_path: Path) -> Store:
    return SQLiteStore(db_path)


async def test_a_text_reaches_the_on_call_browser_as_an_encrypted_push(
    bridge: BridgeUnderTest, bridge_store: Store, service: PushService
) -> None:
    browser = Browser()
    await bridge_store.save_push_subscription(
        browser.subscription(ON_CALL, f"{service.base}/push/laptop")
    )
    await bridge.text(PHONE, "Is the lemon tart still available?")
    await eventually(lambda: len(service.got.get("laptop", [])) == 1, within=20)
    await bridge.idle()
    [(headers, body)] = service.got["laptop"]  # once, whatever the retries
    verify_vapid(headers["Authorization"], service.base)
    plain = http_ece.decrypt(
        body, private_key=browser.key, auth_secret=browser.auth, version="aes128gcm"
    )
    shown = json.loads(plain)
    assert "415" in shown["title"]  # who texted
    assert "lemon tart" in shown["body"]
    assert shown["url"].startswith("https://")  # the thread (or the inbox) in Slack
