"""Signed outgoing webhooks (`notifications.webhooks`): the JSON body of INTERFACES.md,
`X-Bridge-Signature: t=<unix>,sha256=<HMAC-SHA256 of "t.body">` with the webhook's
secret, and `X-Bridge-Delivery`, the same on every retry of one delivery, so a
receiver can drop a repeat. A 2xx is done; anything else, or no answer in time, is
RetryLater (the outbox backs off, a Retry-After is honoured) until the job is dead."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import aiohttp
import structlog

from bridge.delivery.errors import GiveUp, RetryLater
from bridge.notify.http_post import delivery_id, post
from bridge.sender_settings import WebhookSetting

log = structlog.get_logger(__name__)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The X-Bridge-Signature value: the timestamp is signed with the body, so a
    receiver can refuse an old request replayed."""
    signed = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},sha256={digest}"


def _utc(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


class WebhookSender:
    def __init__(self, session: aiohttp.ClientSession, hooks: Iterable[WebhookSetting]) -> None:
        self._session = session
        self._hooks = {hook.name: hook for hook in hooks}

    async def send(
        self,
        webhook_name: str,
        event_name: str,
        parts: Mapping[str, Any],
        key: str,
        at: datetime,
    ) -> None:
        """Deliver one event to one webhook: `{"event", **parts, "at"}` (the parts of an
        event are its `conversation` and `message`). `key` is the same on every retry."""
        hook = self._hooks.get(webhook_name)
        if hook is None:  # taken out of the configuration since the job was stored
            raise GiveUp(f"no webhook called {webhook_name!r} in notifications.webhooks")
        document = {"event": event_name, **parts, "at": _utc(at)}
        body = json.dumps(document, separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "sms-bridge",
            "X-Bridge-Event": event_name,
            "X-Bridge-Delivery": delivery_id(key),
            # Signed at each try: a receiver's replay window counts from the send.
            "X-Bridge-Signature": signature(hook.secret.get_secret_value(), int(time.time()), body),
        }
        who = f"webhook {hook.name}"
        answered = await post(
            self._session, hook.url, body, headers, seconds=hook.timeout_seconds, who=who
        )
        if answered.ok:
            return
        log.info(
            "webhook.refused", webhook=hook.name, status=answered.status, answer=answered.start
        )
        raise RetryLater(f"{who} answered HTTP {answered.status}", after=answered.retry_after)
