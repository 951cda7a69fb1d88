"""Browser notifications by Web Push: each browser a person subscribed (`/notify/push`)
gets the notification encrypted to its own keys (RFC 8291, aes128gcm, by pywebpush)
and the request signed with the bridge's VAPID key (RFC 8292). The POST itself is the
bridge's bounded one, on the event loop; encrypting and signing take a millisecond.

A subscription the push service says is gone (404, 410) is forgotten; a busy service
(429, 5xx, no answer) is RetryLater. A retry goes to every browser again, with the same
`Topic` and `tag`: a push service replaces the copy it still holds, and a browser shows
the repeat in place of the first, not beside it."""

from __future__ import annotations

import json
import time
from urllib.parse import urlsplit

import aiohttp
import structlog

from bridge.delivery.errors import RetryLater
from bridge.models import PushSubscription
from bridge.notify.http_post import delivery_id, post
from bridge.sender_settings import WebPushSetting, public_key, vapid_key
from bridge.store.base import PushSubscriptionStore
from bridge.text import clip

log = structlog.get_logger(__name__)

TTL_SECONDS = 12 * 3600  # a push service keeps it this long for a browser that is offline
TIMEOUT_SECONDS = 10.0
GONE = frozenset({404, 410})


class WebPushSender:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        store: PushSubscriptionStore,
        setting: WebPushSetting,
    ) -> None:
        self._session = session
        self._store = store
        # Loaded only with notifications.web_push: pywebpush and cryptography cost every
        # other process about 14 MiB and 0.1 s at start.
        from py_vapid import Vapid02

        key = vapid_key(setting.vapid_private_key)
        self._vapid = Vapid02(key)
        self._subject = setting.subject
        self.public_key = public_key(key)  # a browser subscribes with it

    async def send(self, user_id: str, title: str, body: str, url: str, key: str) -> None:
        """Notify every browser `user_id` subscribed; `key` is the same on every retry."""
        tag = delivery_id(key)
        shown = {"title": clip(title, 120), "body": clip(body, 400), "url": url, "tag": tag}
        payload = json.dumps(shown).encode()
        later: RetryLater | None = None
        for subscription in await self._store.push_subscriptions(user_id):
            try:
                await self._push(subscription, payload, tag)
            except RetryLater as exc:
                later = exc  # the other browsers still get theirs now
        if later is not None:
            raise later

    async def _push(self, subscription: PushSubscription, payload: bytes, topic: str) -> None:
        from pywebpush import WebPusher  # see __init__: only with notifications.web_push

        keys = {"p256dh": subscription.p256dh, "auth": subscription.auth}
        pusher = WebPusher({"endpoint": subscription.endpoint, "keys": keys})
        encrypted = pusher.encode(payload, "aes128gcm")["body"]
        where = urlsplit(subscription.endpoint)
        claims = {
            "aud": f"{where.scheme}://{where.netloc}",
            "sub": self._subject,
            "exp": int(time.time()) + TTL_SECONDS,
        }
        headers = {
            "Content-Type": "application/octet-stream",
            "Content-Encoding": "aes128gcm",
            "TTL": str(TTL_SECONDS),
            "Topic": topic,
            **self._vapid.sign(claims),
        }
        who = f"push service {where.hostname}"
        answered = await post(
            self._session,
            subscription.endpoint,
            encrypted,
            headers,
            seconds=TIMEOUT_SECONDS,
            who=who,
        )
        if answered.ok:
            return
        if answered.status in GONE:  # the browser unsubscribed, or the person cleared it
            await self._store.drop_push_subscription(subscription.endpoint)
            log.info("push.subscription_gone", user=subscription.user, service=where.hostname)
            return
        if answered.status == 429 or answered.status >= 500:
            raise RetryLater(f"{who} answered HTTP {answered.status}", after=answered.retry_after)
        # 400, 403, 413: this browser will not take it, and retrying cannot change that
        # (403: it subscribed with another key than notifications.web_push.vapid_private_key).
        log.warning(
            "push.refused",
            user=subscription.user,
            service=where.hostname,
            status=answered.status,
            answer=answered.start,
        )
