"""`/notify/push`: the small page where a person turns on browser notifications. It is
opened from the signed link `/sms push` gives (which says who subscribes), registers the
service worker, subscribes with the VAPID public key and posts the subscription here.
What is posted is checked before anything is stored: at most MAX_BODY bytes, an https
endpoint (or this machine's), keys of the lengths RFC 8291 gives; else 400."""

from __future__ import annotations

import binascii
import json
import re
from html import escape
from importlib.resources import files
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from bridge.models import PushSubscription, utcnow
from bridge.notify.push_links import PushLinks
from bridge.sender_settings import is_loopback, unb64url
from bridge.store.base import PushSubscriptionStore

MAX_BODY = 4096  # a subscription is about 400 bytes
MAX_ENDPOINT = 1024
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+={0,2}")
_STATIC = files("bridge.notify") / "static"
# The page runs only its own script, talks only to the bridge, never leaks the link.
_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; connect-src 'self';"
    " style-src 'unsafe-inline'; worker-src 'self'; base-uri 'none'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
}
EXPIRED = (
    "This link has expired or is not valid. Type /sms push in Slack for a new one"
    " (each link is for the person who asked for it)."
)


class BadSubscription(ValueError):
    """What is wrong with a posted subscription, in words for the page."""


def _key(value: Any, name: str, length: int) -> str:
    if not isinstance(value, str) or not _BASE64URL.fullmatch(value):
        raise BadSubscription(f"keys.{name} must be base64url text")
    try:
        raw = unb64url(value)
    except (binascii.Error, ValueError):
        raise BadSubscription(f"keys.{name} must be base64url text") from None
    if len(raw) != length:
        raise BadSubscription(f"keys.{name} must be {length} bytes")
    if name == "p256dh":
        from cryptography.hazmat.primitives.asymmetric import ec  # loaded with Web Push only

        try:
            ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
        except ValueError:
            raise BadSubscription("keys.p256dh is not a P-256 public key") from None
    return value


def subscription_of(posted: Any, user: str) -> PushSubscription:
    """The subscription a browser's `PushSubscription.toJSON()` describes."""
    if not isinstance(posted, dict):
        raise BadSubscription("subscription must be an object")
    endpoint, keys = posted.get("endpoint"), posted.get("keys")
    if not isinstance(endpoint, str) or len(endpoint) > MAX_ENDPOINT:
        raise BadSubscription(f"endpoint must be a URL of at most {MAX_ENDPOINT} characters")
    parts = urlsplit(endpoint)
    secure = parts.scheme == "https" or (parts.scheme == "http" and is_loopback(endpoint))
    if not parts.hostname or not secure:
        raise BadSubscription("endpoint must be an https:// URL")
    if not isinstance(keys, dict):
        raise BadSubscription("keys must be an object with p256dh and auth")
    return PushSubscription(
        user=user,
        endpoint=endpoint,
        p256dh=_key(keys.get("p256dh"), "p256dh", 65),
        auth=_key(keys.get("auth"), "auth", 16),
        created_at=utcnow(),
    )


def _page(user: str, token: str, public_key: str) -> str:
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Browser notifications · SMS Bridge</title>
<style>
  body {{ font: 16px/1.5 system-ui, sans-serif; margin: 0; color: #1d1c1d; }}
  main {{ max-width: 34rem; margin: 3rem auto; padding: 0 1.25rem; }}
  button {{ font: inherit; padding: .6rem 1.1rem; border: 0; border-radius: 6px;
           background: #007a5a; color: #fff; cursor: pointer; }}
  button:disabled {{ opacity: .6; cursor: default; }}
  #status {{ min-height: 1.5em; }}
</style>
</head>
<body>
<main id="push" data-key="{escape(public_key)}" data-token="{escape(token)}">
  <h1>Notifications in this browser</h1>
  <p>Turn on the SMS bridge's notifications for <strong>{escape(user)}</strong>: they
  show in this browser even when Slack is closed.</p>
  <button type="button" id="subscribe">Turn on notifications</button>
  <p id="status" role="status" aria-live="polite"></p>
</main>
<script src="/notify/push/page.js"></script>
</body>
</html>
"""


class PushPage:
    def __init__(self, links: PushLinks, store: PushSubscriptionStore, public_key: str) -> None:
        self._links = links
        self._store = store
        self._public_key = public_key
        self._script = (_STATIC / "push.js").read_text(encoding="utf-8")
        self._worker = (_STATIC / "sw.js").read_text(encoding="utf-8")

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/notify/push", self.page),
            web.get("/notify/push/page.js", self.script),
            web.get("/notify/sw.js", self.worker),
            web.post("/notify/push/subscriptions", self.subscribe),
        ]

    async def page(self, request: web.Request) -> web.Response:
        token = request.query.get("token", "")
        user = self._links.user_of(token, now=utcnow())
        if user is None:
            return web.Response(status=403, text=EXPIRED, headers=_HEADERS)
        html = _page(user, token, self._public_key)
        return web.Response(text=html, content_type="text/html", headers=_HEADERS)

    async def script(self, _request: web.Request) -> web.Response:
        return web.Response(text=self._script, content_type="text/javascript", headers=_HEADERS)

    async def worker(self, _request: web.Request) -> web.Response:
        return web.Response(text=self._worker, content_type="text/javascript", headers=_HEADERS)

    async def subscribe(self, request: web.Request) -> web.Response:
        if (request.content_length or 0) > MAX_BODY:
            return web.Response(status=400, text=f"at most {MAX_BODY} bytes")
        raw = await request.content.read(MAX_BODY + 1)
        if len(raw) > MAX_BODY:
            return web.Response(status=400, text=f"at most {MAX_BODY} bytes")
        try:
            posted = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            return web.Response(status=400, text="not JSON")
        token = posted.get("token") if isinstance(posted, dict) else None
        user = self._links.user_of(token, now=utcnow()) if isinstance(token, str) else None
        if user is None:
            return web.Response(status=403, text=EXPIRED)
        try:
            subscription = subscription_of(posted.get("subscription"), user)
        except BadSubscription as exc:
            return web.Response(status=400, text=str(exc))
        await self._store.save_push_subscription(subscription)
        return web.json_response({"stored": True}, status=201)
