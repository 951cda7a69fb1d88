"""aiohttp handlers for Twilio's webhooks. They translate and verify; the rules
live in `bridge.threading`."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

import structlog
from aiohttp import web

from bridge.metrics import Metrics
from bridge.models import InboundRecord, InboundSms
from bridge.sms.inbound_form import MalformedForm, parse_inbound
from bridge.sms.signature import TwilioSignature

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'
MAX_FORM_BYTES = 64 * 1024  # a 1600-character body and 10 media URLs fit many times over

log = structlog.get_logger(__name__)


class InboundWebhook:
    """POST /sms/inbound: verify, parse, store durably, then (only then) answer 200."""

    def __init__(
        self,
        signature: TwilioSignature,
        receive: Callable[[InboundSms], Awaitable[InboundRecord]],
        metrics: Metrics,
    ) -> None:
        self._signature = signature
        self._receive = receive
        self._metrics = metrics

    async def handle(self, request: web.Request) -> web.Response:
        started = time.perf_counter()
        response = await self._handle(request)
        self._metrics.webhook_seconds.labels("inbound").observe(time.perf_counter() - started)
        return response

    async def _handle(self, request: web.Request) -> web.Response:
        if request.content_length is not None and request.content_length > MAX_FORM_BYTES:
            return self._reject(413, "too_large", "request body too large")
        if request.content_type != "application/x-www-form-urlencoded":
            return self._reject(400, "malformed", "expected a form-encoded Twilio webhook")
        form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
        if not self._signature.verify(
            request.path_qs,
            form,
            request.headers.get("X-Twilio-Signature"),
            request.headers.get("X-Twilio-Webhooks-Signature-Settings"),
        ):
            return self._reject(403, "forbidden", "invalid X-Twilio-Signature")
        try:
            sms = parse_inbound(form)
        except MalformedForm as exc:
            return self._reject(400, "malformed", str(exc))
        record = await self._receive(sms)
        self._metrics.webhooks.labels("inbound", "new" if record.created else "duplicate").inc()
        log.info(
            "sms.inbound",
            sid=sms.sid,
            conversation=record.conversation.id,
            subscriber=sms.subscriber,
            duplicate=not record.created,
        )
        return web.Response(text=EMPTY_TWIML, content_type="text/xml")

    def _reject(self, status: int, outcome: str, reason: str) -> web.Response:
        self._metrics.webhooks.labels("inbound", outcome).inc()
        log.warning("sms.inbound_rejected", status=status, reason=reason)
        return web.Response(status=status, text=reason)
