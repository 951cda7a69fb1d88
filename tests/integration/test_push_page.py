"""`/sms push` answers, only to the person who typed it, a signed link that expires;
the `/notify/push` page it opens knows who subscribes from the link alone, and stores
the browser's subscription it is sent. Bad input is refused (400, nothing stored); a
link that is forged or expired is refused (403). Without `notifications.web_push` there
is no page, and the command says which setting turns it on."""

from __future__ import annotations

import base64
import os
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from bridge.config import BusinessConfig
from bridge.models import utcnow
from bridge.notify.push_links import PushLinks
from bridge.sandbox.slack_emulator import SlackEmulator
from bridge.sender_settings import new_vapid_keys
from bridge.store.base import Store
from bridge.store.sqlite import SQLiteStore
from tests.support import AGENT, INBOX, PUBLIC_URL, BridgeUnderTest, slash

PRIVATE, PUBLIC = new_vapid_keys()
OTHER = "U0BEN"
LINK = re.compile(r"<(https://[^|>]+)\|")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def browser_keys() -> dict[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    raw = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return {"p256dh": b64url(raw), "auth": b64url(os.urandom(16))}


def subscription(endpoint: str = "https://push.example.net/send/abc") -> dict[str, Any]:
    return {"endpoint": endpoint, "expirationTime": None, "keys": browser_keys()}


@pytest.fixture
def business_config() -> BusinessConfig:
    push = {"vapid_private_key": PRIVATE, "subject": "mailto:ops@bakery.example"}
    return BusinessConfig.model_validate({"notifications": {"web_push": push}})


@pytest.fixture
def bridge_store(db_path: Path) -> Store:
    return SQLiteStore(db_path)


@pytest.fixture(autouse=True)
def members(slack: SlackEmulator) -> None:
    slack.add_user(AGENT, "ana", "Ana Ruiz")
    slack.add_user(OTHER, "ben", "Ben Ito")
    slack.join(INBOX, AGENT, OTHER)  # only the inbox's members may use /sms


async def _link(bridge: BridgeUnderTest, slack: SlackEmulator, user: str = AGENT) -> str:
    answer = await slash(bridge, slack, "push", user=user)
    found = LINK.search(answer.text)
    assert found, answer.text
    assert found.group(1).startswith(f"{PUBLIC_URL}/notify/push?")
    return found.group(1).replace(PUBLIC_URL, bridge.url)


def _token(link: str) -> str:
    return link.split("token=", 1)[1]


async def _post(bridge: BridgeUnderTest, body: Any, *, raw: bytes | None = None) -> int:
    async with aiohttp.ClientSession() as http:
        data = raw if raw is not None else None
        async with http.post(
            f"{bridge.url}/notify/push/subscriptions",
            json=None if raw is not None else body,
            data=data,
            headers={"Content-Type": "application/json"},
        ) as response:
            return response.status


async def test_the_link_opens_the_page_and_the_subscription_is_stored_for_its_person(
    bridge: BridgeUnderTest, slack: SlackEmulator, bridge_store: Store
) -> None:
    link = await _link(bridge, slack)
    async with aiohttp.ClientSession() as http, http.get(link) as page:
        assert page.status == 200
        html = await page.text()
    assert PUBLIC in html  # the page subscribes with the bridge's VAPID public key
    made = subscription()
    assert await _post(bridge, {"token": _token(link), "subscription": made}) == 201
    [stored] = await bridge_store.push_subscriptions(AGENT)
    assert stored.endpoint == made["endpoint"]
    assert stored.p256dh == made["keys"]["p256dh"]
    assert stored.auth == made["keys"]["auth"]


def _bad_subscriptions() -> list[Any]:
    good = subscription()
    keys = good["keys"]
    return [
        {**good, "endpoint": "http://push.example.net/send/abc"},  # not https
        {**good, "endpoint": "not a url"},
        {**good, "endpoint": "https://push.example.net/" + "x" * 2000},
        {**good, "keys": {**keys, "p256dh": keys["p256dh"][:-4]}},  # not 65 bytes
        {**good, "keys": {**keys, "p256dh": "B" + "A" * 86}},  # 65 bytes, not a P-256 point
        {**good, "keys": {**keys, "auth": keys["auth"] + "AAAA"}},  # not 16 bytes
        {**good, "keys": {**keys, "auth": "!!!!!!!!!!!!!!!!!!!!!!"}},  # not base64url
        {"endpoint": good["endpoint"]},  # no keys
        "a string",
        None,
    ]


@pytest.mark.parametrize("bad", _bad_subscriptions())
async def test_a_bad_subscription_is_refused_and_nothing_is_stored(
    bridge: BridgeUnderTest, slack: SlackEmulator, bridge_store: Store, bad: Any
) -> None:
    link = await _link(bridge, slack)
    assert await _post(bridge, {"token": _token(link), "subscription": bad}) == 400
    assert await bridge_store.push_subscriptions(AGENT) == []


async def test_a_body_that_is_not_json_or_too_large_is_refused(
    bridge: BridgeUnderTest, slack: SlackEmulator, bridge_store: Store
) -> None:
    link = await _link(bridge, slack)
    assert await _post(bridge, None, raw=b"{not json") == 400
    padded = {"token": _token(link), "subscription": subscription(), "pad": "x" * 100_000}
    assert await _post(bridge, padded) == 400
    assert await bridge_store.push_subscriptions(AGENT) == []


async def test_a_forged_or_expired_link_is_refused(
    bridge: BridgeUnderTest, slack: SlackEmulator, bridge_store: Store
) -> None:
    link = await _link(bridge, slack)
    token = _token(link)
    user, expires, signature = token.split(".")
    forged = f"U0MALLORY.{expires}.{signature}"
    links = PushLinks.for_key(PRIVATE, PUBLIC_URL, minutes=60)
    expired = _token(links.link(AGENT, now=utcnow() - timedelta(hours=2)))
    script = '"><script>alert(1)</script>'
    for bad in (forged, expired, "", script, f"{user}.{expires}"):
        assert await _post(bridge, {"token": bad, "subscription": subscription()}) == 403
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"{bridge.url}/notify/push", params={"token": bad}) as page,
        ):
            assert page.status == 403
            shown = await page.text()
        assert "<script>alert" not in shown
        assert "/sms push" in shown  # how to get a new link
    assert await bridge_store.push_subscriptions(AGENT) == []
    assert await bridge_store.push_subscriptions("U0MALLORY") == []


async def test_each_person_gets_their_own_link(
    bridge: BridgeUnderTest, slack: SlackEmulator, bridge_store: Store
) -> None:
    link = await _link(bridge, slack, user=OTHER)
    assert await _post(bridge, {"token": _token(link), "subscription": subscription()}) == 201
    assert len(await bridge_store.push_subscriptions(OTHER)) == 1
    assert await bridge_store.push_subscriptions(AGENT) == []


class TestWithoutWebPush:
    @pytest.fixture
    def business_config(self) -> BusinessConfig:
        return BusinessConfig()

    async def test_the_command_names_the_setting_and_there_is_no_page(
        self, bridge: BridgeUnderTest, slack: SlackEmulator
    ) -> None:
        answer = await slash(bridge, slack, "push")
        assert "notifications.web_push" in answer.text
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"{bridge.url}/notify/push") as page,
        ):
            assert page.status == 404
