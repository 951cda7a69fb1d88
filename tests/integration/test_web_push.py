"""Web Push (RFC 8291 aes128gcm, VAPID RFC 8292): the sender encrypts a notification
to the keys of a browser's subscription and signs its request; a push endpoint run here
decrypts it with the keys the test made and verifies the VAPID JWT (ES256) against the
bridge's public key. An endpoint the push service says is gone (404/410) is forgotten."""

from __future__ import annotations

import base64
import json
import os
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import http_ece
import pytest
from aiohttp import web
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from pydantic import SecretStr

from bridge.delivery.errors import RetryLater
from bridge.models import PushSubscription, utcnow
from bridge.notify.web_push_sender import WebPushSender
from bridge.sender_settings import WebPushSetting
from bridge.store.sqlite import SQLiteStore
from tests.support import bounded, on_loopback

SUBJECT = "mailto:ops@bakery.example"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def point(key: ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )


@dataclass
class Browser:
    """What a browser keeps of its subscription: its own key pair and auth secret."""

    key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    auth: bytes = field(default_factory=lambda: os.urandom(16))

    def subscription(self, user: str, endpoint: str) -> PushSubscription:
        return PushSubscription(
            user=user,
            endpoint=endpoint,
            p256dh=b64url(point(self.key.public_key())),
            auth=b64url(self.auth),
            created_at=utcnow(),
        )


@dataclass
class PushService:
    """A push service's endpoints: /push/<id> answers `status[id]` (201 by default)."""

    status: dict[str, int] = field(default_factory=dict)
    got: dict[str, list[tuple[dict[str, str], bytes]]] = field(default_factory=dict)
    base: str = ""

    async def handle(self, request: web.Request) -> web.Response:
        which = request.match_info["which"]
        self.got.setdefault(which, []).append((dict(request.headers), await request.read()))
        return web.Response(status=self.status.get(which, 201))


@pytest.fixture
async def service() -> AsyncIterator[PushService]:
    found = PushService()
    app = web.Application()
    app.router.add_post("/push/{which}", found.handle)
    async with on_loopback(app) as found.base:
        yield found


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    opened = SQLiteStore(tmp_path / "push.db")
    await opened.open()
    yield opened
    await bounded(opened.close())


VAPID = ec.generate_private_key(ec.SECP256R1())
SETTING = WebPushSetting(
    vapid_private_key=SecretStr(b64url(VAPID.private_numbers().private_value.to_bytes(32, "big"))),
    subject=SUBJECT,
)


def verify_vapid(authorization: str, audience: str) -> dict[str, Any]:
    """The claims of a valid `vapid t=<JWT>,k=<key>` header, signed by the bridge's key."""
    scheme, _, params = authorization.partition(" ")
    assert scheme == "vapid"
    parts = dict(part.split("=", 1) for part in params.split(","))
    assert unb64url(parts["k"]) == point(VAPID.public_key())
    header, claims, signature = parts["t"].split(".")
    assert json.loads(unb64url(header)) == {"typ": "JWT", "alg": "ES256"}
    raw = unb64url(signature)
    assert len(raw) == 64  # JOSE's r || s, not DER
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    VAPID.public_key().verify(der, f"{header}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))
    decoded: dict[str, Any] = json.loads(unb64url(claims))
    assert decoded["aud"] == audience
    assert decoded["sub"] == SUBJECT
    assert time.time() < decoded["exp"] <= time.time() + 24 * 3600
    return decoded


async def test_a_push_is_encrypted_to_the_browser_and_signed_with_vapid(
    service: PushService, store: SQLiteStore
) -> None:
    browser = Browser()
    await store.save_push_subscription(browser.subscription("U1", f"{service.base}/push/a"))
    async with aiohttp.ClientSession() as session:
        sender = WebPushSender(session, store, SETTING)
        await sender.send(
            "U1", "Urgent text from +1 415…", "The cake fell!", "https://x.test/t", "k1"
        )
    [(headers, body)] = service.got["a"]
    assert headers["Content-Encoding"] == "aes128gcm"
    assert int(headers["TTL"]) > 0
    verify_vapid(headers["Authorization"], service.base)
    plain = http_ece.decrypt(
        body, private_key=browser.key, auth_secret=browser.auth, version="aes128gcm"
    )
    shown = json.loads(plain)
    assert shown["title"] == "Urgent text from +1 415…"
    assert shown["body"] == "The cake fell!"
    assert shown["url"] == "https://x.test/t"
    assert shown["tag"]  # the same delivery shows once, however often it is retried


async def test_every_browser_of_the_person_gets_it_and_a_gone_one_is_forgotten(
    service: PushService, store: SQLiteStore
) -> None:
    phone, laptop, gone, stranger = Browser(), Browser(), Browser(), Browser()
    for which, browser, user in (
        ("phone", phone, "U1"),
        ("laptop", laptop, "U1"),
        ("gone", gone, "U1"),
        ("stranger", stranger, "U2"),
    ):
        await store.save_push_subscription(
            browser.subscription(user, f"{service.base}/push/{which}")
        )
    service.status["gone"] = 410
    async with aiohttp.ClientSession() as session:
        await WebPushSender(session, store, SETTING).send("U1", "t", "b", "https://x.test", "k2")
    assert set(service.got) == {"phone", "laptop", "gone"}
    left = [s.endpoint.rsplit("/", 1)[1] for s in await store.push_subscriptions("U1")]
    assert left == ["phone", "laptop"]


async def test_a_push_service_that_is_busy_is_retried_later(
    service: PushService, store: SQLiteStore
) -> None:
    await store.save_push_subscription(Browser().subscription("U1", f"{service.base}/push/busy"))
    service.status["busy"] = 503
    async with aiohttp.ClientSession() as session:
        with pytest.raises(RetryLater):
            await WebPushSender(session, store, SETTING).send("U1", "t", "b", "https://x", "k3")
    assert len(await store.push_subscriptions("U1")) == 1
