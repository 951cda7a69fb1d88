"""Job APPOINTMENT_WEBHOOK: hand an appointment wish the assistant collected to the
business's own system (`ai.tools.appointments.webhook_url`), as signed JSON.

The body is signed with HMAC-SHA256 over the raw bytes when a secret is configured
(`X-Bridge-Signature: sha256=<hex>`), so the receiver can tell it came from the bridge.
A 5xx or a timeout is retried by the outbox; a 4xx is the receiver refusing: dead job,
reported in the inbox channel like every dead job.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Protocol

import aiohttp

from bridge.delivery.errors import GiveUp, RetryLater
from bridge.models import Job
from bridge.store.base import ConversationStore, MessageStore


class _Store(ConversationStore, MessageStore, Protocol):
    """The store roles this module uses."""


class AppointmentWebhook:
    def __init__(
        self,
        store: _Store,
        session: aiohttp.ClientSession,
        url: str,
        *,
        secret: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        self._store = store
        self._session = session
        self._url = url
        self._secret = secret
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    async def __call__(self, job: Job) -> None:
        message = await self._store.get_message(job.message_id) if job.message_id else None
        conversation = (
            await self._store.get_conversation(message.conversation_id) if message else None
        )
        if message is None or conversation is None or message.draft is None:
            raise GiveUp(f"message {job.message_id} is gone")
        body = json.dumps(
            {
                "type": "appointment_request",
                "message_id": message.id,
                "conversation": conversation.id,
                "business_number": conversation.business_number,
                "subscriber": conversation.subscriber,
                "wish": message.draft.appointment,
                "text": message.body,
                "received_at": message.created_at.isoformat(),
            }
        ).encode()
        headers = {"Content-Type": "application/json"}
        if self._secret:
            digest = hmac.new(self._secret.encode(), body, hashlib.sha256).hexdigest()
            headers["X-Bridge-Signature"] = f"sha256={digest}"
        try:
            async with self._session.post(
                self._url, data=body, headers=headers, timeout=self._timeout
            ) as response:
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise RetryLater(f"appointment webhook unreachable: {type(exc).__name__}") from exc
        if status >= 500 or status == 429:
            raise RetryLater(f"appointment webhook answered HTTP {status}")
        if status >= 400:
            raise GiveUp(f"appointment webhook refused the request: HTTP {status}")
