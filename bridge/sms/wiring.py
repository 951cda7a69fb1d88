"""The Twilio edge, wired (SMS and WhatsApp share it: one Messages API, one webhook):
its webhook routes, the job that sends replies through its sender, the media fetcher and
the error-code table the Slack edge uses, and its stop step."""

from __future__ import annotations

import math
from collections.abc import Callable

import aiohttp
from aiohttp import web
from twilio.rest import Client as TwilioClient

from bridge.config import Settings
from bridge.delivery.outbox import Handler
from bridge.delivery.pacing import Rate
from bridge.delivery.shared_pacing import make_pacer
from bridge.metrics import Metrics
from bridge.models import JobKind
from bridge.sms.media import TwilioMedia
from bridge.sms.send_failures import send_failure
from bridge.sms.sender import TwilioSender
from bridge.sms.signature import TwilioSignature
from bridge.sms.webhooks import InboundWebhook, StatusWebhook
from bridge.store.base import PaceStore, Store
from bridge.threading.inbound import InboundPipeline
from bridge.threading.outbound import OutboundPipeline
from bridge.threading.sending import Directory, ReplySender


class TwilioEdge:
    # Twilio's error codes → the domain's `SendFailure` (the Slack edge words them).
    explain_failure = staticmethod(send_failure)

    def __init__(
        self,
        client: TwilioClient,
        session: aiohttp.ClientSession,
        settings: Settings,
        *,
        shared_pacing: PaceStore | None = None,
    ) -> None:
        self._client = client
        self._settings = settings
        auth_token = settings.twilio_auth_token.get_secret_value()
        self.media = TwilioMedia(
            session,
            api_url=settings.twilio_api_url,
            account_sid=settings.twilio_account_sid,
            auth_token=auth_token,
        )
        # A small burst lets the average keep up with the rate when a wake is late.
        per_sender = Rate(rate := settings.bridge_sms_rate, math.ceil(rate / 10))
        self._pacer = make_pacer(lambda _sender: per_sender, shared=shared_pacing)
        self._sender = TwilioSender(
            client,
            self._pacer,
            account_sid=settings.twilio_account_sid,
            status_callback=f"{settings.bridge_public_url}/sms/status",
        )
        self._signature = TwilioSignature(auth_token, settings.bridge_public_url)

    def jobs(
        self, store: Store, names: Directory, on_enqueued: Callable[[], None], zone: str
    ) -> dict[JobKind, Handler]:
        """SEND_SMS: a reply out through Twilio; `names` turns mentions into names."""
        sender = ReplySender(
            store,
            self._sender,
            names,
            messaging_service_sid=self._settings.twilio_messaging_service_sid,
            on_enqueued=on_enqueued,
            default_zone=zone,
        )
        return {JobKind.SEND_SMS: sender}

    def routes(
        self, inbound: InboundPipeline, replies: OutboundPipeline, metrics: Metrics
    ) -> list[web.RouteDef]:
        """Twilio's webhooks: messages in, and the delivery state of replies."""
        received = InboundWebhook(self._signature, inbound.receive, metrics)
        status = StatusWebhook(self._signature, replies.delivery_update, metrics)
        return [web.post("/sms/inbound", received.handle), web.post("/sms/status", status.handle)]

    async def close(self) -> None:
        await self._pacer.close()
        await self._client.http_client.close()
