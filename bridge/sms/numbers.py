"""Where Twilio sends a number's (or Messaging Service's, or WhatsApp sender's)
incoming messages: read it, and point it at the bridge (`sms-bridge connect`,
`sms-bridge check`)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from twilio.rest import Client
from twilio.rest.messaging.v2.channels_sender import ChannelsSenderContext

WHATSAPP = "whatsapp:"


@dataclass(frozen=True)
class Webhook:
    """One inbound webhook setting: what it is called, where it points now."""

    name: str  # "+1 415-555-0100" or "Messaging Service MG…"
    url: str | None


class InboundWebhooks:
    def __init__(
        self, client: Client, account_sid: str, expected_url: str, *, json_client: Client
    ) -> None:
        self._client = client
        # twilio's async HTTP client form-encodes the JSON bodies of the v2 APIs (the
        # Senders API's update): those calls go through the blocking client, in a thread.
        self._json_client = json_client
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

    async def _whatsapp_sender(self, e164: str) -> Any:
        senders = await self._client.messaging.v2.channels_senders.list_async(
            channel="whatsapp", limit=200
        )
        for sender in senders:
            if sender.sender_id == f"{WHATSAPP}{e164}":
                return sender
        raise LookupError(f"{e164} is not a WhatsApp sender of this Twilio account")

    async def whatsapp(self, e164: str) -> Webhook:
        sender = await self._whatsapp_sender(e164)
        return Webhook(f"{WHATSAPP}{e164}", (sender.webhook or {}).get("callback_url") or None)

    async def connect_whatsapp(self, e164: str) -> tuple[Webhook, Webhook]:
        """Point the WhatsApp sender's incoming-message webhook at the bridge (the same
        URL as texts: one webhook takes both); (before, after)."""
        sender = await self._whatsapp_sender(e164)
        before = Webhook(f"{WHATSAPP}{e164}", (sender.webhook or {}).get("callback_url") or None)
        change = ChannelsSenderContext.MessagingV2ChannelsSenderRequestsUpdate(
            {"webhook": {"callback_url": self.expected_url, "callback_method": "POST"}}
        )
        senders = self._json_client.messaging.v2.channels_senders
        updated = await asyncio.to_thread(senders(sender.sid).update, change)
        return before, Webhook(before.name, (updated.webhook or {}).get("callback_url"))
