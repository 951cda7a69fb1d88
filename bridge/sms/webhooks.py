"""aiohttp handlers for Twilio's webhooks. They translate and verify; the rules
live in `bridge.threading`."""

from __future__ import annotations

import re
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable

import structlog
from aiohttp import web

from bridge.events import SendFailure
from bridge.metrics import Metrics
from bridge.models import DeliveryStatus, InboundRecord, InboundSms
from bridge.sms.inbound_form import MalformedForm, parse_inbound
from bridge.sms.send_failures import send_failure
from bridge.sms.signature import TwilioSignature
from bridge.store.base import StoreUnavailable

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'
MAX_FORM_BYTES = 64 * 1024  # a 1600-character body and 10 media URLs fit many times over
# While the store refuses writes: when to try again (the store probes every few seconds).
RETRY_AFTER_SECONDS = 5
_ERROR_CODE = re.compile(r"[0-9]{1,6}")  # Twilio's codes have five digits

log = structlog.get_logger(__name__)


class Rejected(Exception):
    def __init__(self, status: int, outcome: str, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.outcome = outcome


class TwilioWebhook(ABC):
    """What every Twilio webhook needs: a bounded form whose signature is checked
    before anything else looks at it, and its latency and outcome counted."""

    endpoint = "twilio"

    def __init__(self, signature: TwilioSignature, metrics: Metrics) -> None:
        self._signature = signature
        self._metrics = metrics

    async def handle(self, request: web.Request) -> web.Response:
        started = time.perf_counter()
        try:
            form = await self._verified_form(request)
            outcome, response = await self.answer(form)
        except Rejected as exc:
            log.warning("sms.webhook_rejected", endpoint=self.endpoint, reason=str(exc))
            outcome, response = exc.outcome, web.Response(status=exc.status, text=str(exc))
        except StoreUnavailable as exc:
            # Nothing was stored; Twilio tries again. The store logged the cause once.
            outcome = "unavailable"
            response = web.Response(
                status=503,
                text=exc.answer,
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
        self._metrics.webhooks.labels(self.endpoint, outcome).inc()
        self._metrics.webhook_seconds.labels(self.endpoint).observe(time.perf_counter() - started)
        return response

    async def _verified_form(self, request: web.Request) -> dict[str, str]:
        if request.content_length is not None and request.content_length > MAX_FORM_BYTES:
            raise Rejected(413, "too_large", "request body too large")
        if request.content_type != "application/x-www-form-urlencoded":
            raise Rejected(400, "malformed", "expected a form-encoded Twilio webhook")
        try:
            posted = await request.post()
        except (ValueError, LookupError):  # not UTF-8 (or its charset), or not a form
            raise Rejected(400, "malformed", "not a form-encoded body") from None
        form = {k: v for k, v in posted.items() if isinstance(v, str)}
        if not self._signature.verify(
            request.path_qs,
            form,
            request.headers.get("X-Twilio-Signature"),
            request.headers.get("X-Twilio-Webhooks-Signature-Settings"),
        ):
            raise Rejected(403, "forbidden", "invalid X-Twilio-Signature")
        return form

    @abstractmethod
    async def answer(self, form: dict[str, str]) -> tuple[str, web.Response]:
        """The verified form → (outcome for metrics, response)."""


class InboundWebhook(TwilioWebhook):
    """POST /sms/inbound: verify, parse, store durably, then (only then) answer 200."""

    endpoint = "inbound"

    def __init__(
        self,
        signature: TwilioSignature,
        receive: Callable[[InboundSms], Awaitable[InboundRecord | None]],
        metrics: Metrics,
    ) -> None:
        super().__init__(signature, metrics)
        self._receive = receive

    async def answer(self, form: dict[str, str]) -> tuple[str, web.Response]:
        try:
            sms = parse_inbound(form)
        except MalformedForm as exc:
            raise Rejected(400, "malformed", str(exc)) from None
        record = await self._receive(sms)
        if record is None:  # an answer to a campaign, counted (and durable) there
            log.info("sms.answer", sid=sms.sid, subscriber=sms.subscriber)
            return "answer", web.Response(text=EMPTY_TWIML, content_type="text/xml")
        log.info(
            "sms.inbound",
            sid=sms.sid,
            conversation=record.conversation.id,
            subscriber=sms.subscriber,
            duplicate=not record.created,
        )
        outcome = "new" if record.created else "duplicate"
        return outcome, web.Response(text=EMPTY_TWIML, content_type="text/xml")


# Twilio's MessageStatus values → where the bridge tracks a reply. Statuses before
# "sent" add nothing: the reply is SENT as soon as Twilio accepts it.
STATUSES = {
    "queued": DeliveryStatus.SENT,
    "accepted": DeliveryStatus.SENT,
    "scheduled": DeliveryStatus.SENT,
    "sending": DeliveryStatus.SENT,
    "sent": DeliveryStatus.SENT,
    "delivered": DeliveryStatus.DELIVERED,
    "read": DeliveryStatus.DELIVERED,
    "undelivered": DeliveryStatus.UNDELIVERED,
    "failed": DeliveryStatus.FAILED,
    "canceled": DeliveryStatus.FAILED,
}


class StatusWebhook(TwilioWebhook):
    """POST /sms/status: a reply's delivery state, as Twilio's status callback says."""

    endpoint = "status"

    def __init__(
        self,
        signature: TwilioSignature,
        update: Callable[[str, DeliveryStatus, SendFailure | None], Awaitable[object]],
        metrics: Metrics,
    ) -> None:
        super().__init__(signature, metrics)
        self._update = update

    async def answer(self, form: dict[str, str]) -> tuple[str, web.Response]:
        sid, raw = form.get("MessageSid", ""), form.get("MessageStatus", "")
        if not sid or not raw:
            raise Rejected(400, "malformed", "MessageSid and MessageStatus are required")
        if raw not in STATUSES:
            return "ignored", web.Response(text="")  # a status Twilio added; nothing to do
        code = form.get("ErrorCode") or None
        if code is not None and not _ERROR_CODE.fullmatch(code):
            raise Rejected(400, "malformed", "ErrorCode is not a Twilio error code")
        await self._update(sid, STATUSES[raw], send_failure(int(code)) if code else None)
        return "ok", web.Response(text="")
