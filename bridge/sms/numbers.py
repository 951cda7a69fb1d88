"""Where Twilio sends a number's (or Messaging Service's) incoming texts: read it,
and point it at the bridge (`sms-bridge connect`, `sms-bridge check`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from twilio.rest import Client


@dataclass(frozen=True)
class Webhook:
    """One inbound webhook setting: what it is called, where it points now."""

    name: str  # "+1 415-555-0100" or "Messaging Service MG…"
    url: str | None


class InboundWebhooks:
    def __init__(self, client: Client, account_sid: str, expected_url: str) -> None:
        self._client = client
        self._account = account_sid
        self.expected_url = expected_url

    def _numbers(self) -> Any:  # twilio ships no types
        return self._client.api.v2010.accounts(self._account).incoming_phone_numbers

    async def number(self, e164: str) -> Webhook:
        found = await self._numbers().list_async(phone_number=e164, limit=1)
        if not found:
            raise LookupError(f"{e164} is not a number of this Twilio account")
        return Webhook(e164, found[0].sms_url or None)

    async def connect_number(self, e164: str) -> tuple[Webhook, Webhook]:
        """Point the number's SMS webhook at the bridge; (before, after)."""
        found = await self._numbers().list_async(phone_number=e164, limit=1)
        if not found:
            raise LookupError(f"{e164} is not a number of this Twilio account")
        before = Webhook(e164, found[0].sms_url or None)
        updated = await self._numbers()(found[0].sid).update_async(
            sms_url=self.expected_url, sms_method="POST"
        )
        return before, Webhook(e164, updated.sms_url)

    async def service(self, sid: str) -> Webhook:
        service = await self._client.messaging.v1.services(sid).fetch_async()
        return Webhook(f"Messaging Service {sid}", service.inbound_request_url)

    async def connect_service(self, sid: str) -> tuple[Webhook, Webhook]:
        before = await self.service(sid)
        updated = await self._client.messaging.v1.services(sid).update_async(
            inbound_request_url=self.expected_url,
            inbound_method="POST",
            use_inbound_webhook_on_number=False,
        )
        return before, Webhook(before.name, updated.inbound_request_url)
