"""A local Twilio: the REST endpoints the bridge calls, plus signed webhooks to the bridge.

The real `twilio.rest.Client` talks to it once `client.api.base_url` points here. Errors use
Twilio's JSON shape (`code`, `message`, `more_info`, `status`) so the client raises
`TwilioRestException` with the right `code`, exactly as against api.twilio.com.

WhatsApp goes through the same endpoints with `whatsapp:`-prefixed From and To. As on
Twilio, a free-form WhatsApp message is refused (63016) unless the recipient wrote to
the business in the last 24 hours, and keywords block nothing on WhatsApp.
"""

from __future__ import annotations

import asyncio
import hmac
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import urlencode

import aiohttp
import phonenumbers
from aiohttp import encode_basic_auth, web
from twilio.request_validator import RequestValidator

from bridge.sandbox.recorder import (
    ANY,
    Failure,
    FailureInjector,
    LocalServer,
    RecordedCall,
    WebhookResponse,
)

MAX_BODY_BYTES = 256 * 1024
API_VERSION = "2010-04-01"
# Twilio waits up to 15 s for a webhook answer by default.
WEBHOOK_TIMEOUT_SECONDS = 15.0
# Twilio's default keywords (no Advanced Opt-Out): it blocks or unblocks the sender itself.
OPT_OUT_KEYWORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
OPT_IN_KEYWORDS = {"START", "YES", "UNSTOP"}

_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
WHATSAPP = "whatsapp:"
WHATSAPP_WINDOW_SECONDS = 24 * 3600
_FAILED_STATUSES = {"failed", "undelivered"}
# GSM 03.38: the basic set costs one septet, the extension set two (escape + char).
_GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENDED = set("^{}\\[~]|€\f")


def _now() -> str:
    return format_datetime(datetime.now(UTC))  # RFC 2822, as Twilio dates are


def _account_path(account_sid: str) -> str:
    return f"/{API_VERSION}/Accounts/{account_sid}"


def _sid(prefix: str) -> str:
    return prefix + uuid.uuid4().hex


def _segments(body: str) -> int:
    """SMS segments for `body` (GSM-7 160/153 septets, else UCS-2 70/67 code units)."""
    if all(ch in _GSM_BASIC or ch in _GSM_EXTENDED for ch in body):
        units = sum(2 if ch in _GSM_EXTENDED else 1 for ch in body)
        single, multi = 160, 153
    else:
        units = len(body.encode("utf-16-le")) // 2
        single, multi = 70, 67
    return 1 if units <= single else -(-units // multi)


def _country(number: str) -> str:
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(number)) or ""
    except phonenumbers.NumberParseException:
        return ""


class TwilioError(Exception):
    """A Twilio REST error, answered in Twilio's JSON error shape."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def to_api(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "more_info": f"https://www.twilio.com/docs/errors/{self.code}",
            "status": self.status,
        }


@dataclass
class SentMessage:
    """An outbound message accepted by Messages.json; `status` follows the callbacks sent."""

    sid: str
    account_sid: str
    to: str
    from_: str | None
    body: str
    status: str
    status_callback: str | None
    messaging_service_sid: str | None
    num_segments: int
    params: dict[str, str]
    error_code: int | None = None
    date_created: str = field(default_factory=_now)

    def to_api(self) -> dict[str, Any]:
        return {
            "sid": self.sid,
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "to": self.to,
            "from": self.from_,
            "body": self.body,
            "status": self.status,
            "direction": "outbound-api",
            "messaging_service_sid": self.messaging_service_sid,
            "num_segments": str(self.num_segments),
            "num_media": "0",
            "error_code": self.error_code,
            "error_message": None,
            "price": None,
            "price_unit": "USD",
            "date_created": self.date_created,
            "date_updated": self.date_created,
            "date_sent": None,
            "uri": f"{_account_path(self.account_sid)}/Messages/{self.sid}.json",
            "subresource_uris": {
                "media": f"{_account_path(self.account_sid)}/Messages/{self.sid}/Media.json"
            },
        }


@dataclass
class PhoneNumber:
    """An incoming phone number of the account; `sms_url` is where inbound SMS go."""

    sid: str
    account_sid: str
    phone_number: str
    sms_url: str | None = None
    sms_method: str = "POST"
    friendly_name: str = ""
    date_created: str = field(default_factory=_now)
    date_updated: str = field(default_factory=_now)

    def to_api(self) -> dict[str, Any]:
        return {
            "sid": self.sid,
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "phone_number": self.phone_number,
            "friendly_name": self.friendly_name or self.phone_number,
            "sms_url": self.sms_url or "",
            "sms_method": self.sms_method,
            "sms_fallback_url": "",
            "sms_fallback_method": "POST",
            "capabilities": {"sms": True, "mms": True, "voice": True, "fax": False},
            "status": "in-use",
            "origin": "twilio",
            "date_created": self.date_created,
            "date_updated": self.date_updated,
            "uri": f"{_account_path(self.account_sid)}/IncomingPhoneNumbers/{self.sid}.json",
        }


@dataclass
class WhatsAppSender:
    """A WhatsApp sender of the account (Twilio's Senders API): `callback_url` is where
    the messages WhatsApp users send it go."""

    sid: str
    number: str
    callback_url: str | None = None

    def to_api(self, base_url: str | None) -> dict[str, Any]:
        return {
            "sid": self.sid,
            "status": "ONLINE",
            "sender_id": f"{WHATSAPP}{self.number}",
            "webhook": {
                "callback_url": self.callback_url,
                "callback_method": "POST",
                "fallback_url": None,
                "fallback_method": None,
                "status_callback_url": None,
                "status_callback_method": None,
            },
            "url": f"{base_url}/v2/Channels/Senders/{self.sid}",
        }


@dataclass
class StatusCallback:
    """A status callback the emulator posted, and how the bridge answered (0: unreachable)."""

    url: str
    params: dict[str, str]
    status: int


@dataclass(frozen=True)
class _Media:
    content_type: str
    data: bytes


_Endpoint = Callable[[web.Request, dict[str, str]], Awaitable[tuple[int, dict[str, Any]]]]


class TwilioEmulator:
    """An in-memory Twilio account serving the 2010-04-01 REST API and media files."""

    def __init__(
        self,
        account_sid: str = "AC" + "0" * 32,
        # Sandbox credentials, known to both sides on purpose.
        auth_token: str = "sandbox-auth-token",  # noqa: S107
        *,
        auto_status: Sequence[str] = (),
        keyword_opt_out: bool = True,
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        # Statuses posted, in order, to each new message's StatusCallback (none by default).
        self.auto_status = tuple(auto_status)
        # Whether an inbound STOP/START blocks/unblocks the sender, as Twilio does by default.
        self.keyword_opt_out = keyword_opt_out
        # Seconds every REST answer is held back, to emulate a slow API; `held` names the
        # calls held so far, from their arrival (a test can act while one is in flight).
        self.delay_seconds = 0.0
        self.held: list[str] = []
        # Creates that go through but whose answer is lost (a 500 after the effect):
        # the ambiguous case a sender must resolve without sending twice.
        self.lose_answers = 0
        self.calls: list[RecordedCall] = []
        self.sent: list[SentMessage] = []
        self.status_callbacks: list[StatusCallback] = []
        self.numbers: dict[str, PhoneNumber] = {}
        self.whatsapp_senders: dict[str, WhatsAppSender] = {}
        # Messaging Services: sid → inbound request URL (None: not set).
        self.services: dict[str, str | None] = {}
        self.blocked: set[str] = set()
        # WhatsApp users' last messages to the business (time.time()): the reply window.
        self.whatsapp_inbound: dict[str, float] = {}
        self._media: dict[str, _Media] = {}
        self._media_redirects: dict[str, str] = {}
        self._routes: dict[str, str] = {}
        self._failures = FailureInjector()
        self._tasks: set[asyncio.Task[None]] = set()

        prefix = _account_path("{account}")
        self.app = web.Application(client_max_size=MAX_BODY_BYTES)
        routes = self.app.router
        routes.add_get(prefix + ".json", self._endpoint("accounts.fetch", self._account))
        routes.add_post(
            prefix + "/Messages.json", self._endpoint("messages.create", self._create_message)
        )
        routes.add_get(
            prefix + "/Messages.json", self._endpoint("messages.list", self._list_messages)
        )
        routes.add_get(
            prefix + "/IncomingPhoneNumbers.json",
            self._endpoint("incoming_phone_numbers.list", self._list_numbers),
        )
        routes.add_post(
            prefix + "/IncomingPhoneNumbers/{number}.json",
            self._endpoint("incoming_phone_numbers.update", self._update_number),
        )
        routes.add_get("/v1/Services/{service}", self._endpoint("services.fetch", self._service))
        routes.add_post("/v1/Services/{service}", self._endpoint("services.update", self._service))
        routes.add_get(
            "/v2/Channels/Senders", self._endpoint("channels_senders.list", self._list_senders)
        )
        routes.add_post(
            "/v2/Channels/Senders/{sender}",
            self._endpoint("channels_senders.update", self._update_sender),
        )
        routes.add_get("/media/{name}", self._serve_media)
        self._server = LocalServer(self.app)

    # -- running on a socket ---------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve on a real socket; returns the base URL to set as `client.api.base_url`."""
        return await self._server.start(host, port)

    @property
    def base_url(self) -> str | None:
        """Where `start()` serves, or None when not started."""
        return self._server.base_url

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.stop()

    async def settle(self) -> None:
        """Wait until every automatic status callback scheduled so far has been posted."""
        while self._tasks:
            await asyncio.gather(*self._tasks)

    # -- account setup and inspection ------------------------------------------------

    def add_number(self, e164: str, sms_url: str | None = None) -> str:
        number = PhoneNumber(_sid("PN"), self.account_sid, e164, sms_url)
        self.numbers[number.sid] = number
        return number.sid

    def add_whatsapp_sender(self, e164: str, callback_url: str | None = None) -> str:
        sender = WhatsAppSender(_sid("XE"), e164, callback_url)
        self.whatsapp_senders[sender.sid] = sender
        return sender.sid

    def opt_out(self, number: str) -> None:
        """Block sends to `number` (error 21610), as after it texted STOP.

        Twilio blocks per sender/recipient pair; the emulator blocks the recipient for all senders.
        """
        self.blocked.add(number)

    def opt_in(self, number: str) -> None:
        self.blocked.discard(number)

    def add_media(self, name: str, content_type: str, data: bytes) -> str:
        """Serve `data` at the returned path (behind the account's Basic auth)."""
        self._media[name] = _Media(content_type, data)
        return f"/media/{name}"

    def add_media_redirect(self, name: str, location: str) -> str:
        """Answer the returned path (behind Basic auth) with a redirect to `location`, as
        Twilio answers a media URL with one to its media storage."""
        self._media_redirects[name] = location
        return f"/media/{name}"

    def sent_to(self, number: str) -> list[SentMessage]:
        return [message for message in self.sent if message.to == number]

    def message(self, sid: str) -> SentMessage:
        for message in self.sent:
            if message.sid == sid:
                return message
        raise KeyError(sid)

    def route_webhooks(self, public_base: str, local_base: str) -> None:
        """Post webhooks for URLs under `public_base` to `local_base` instead.

        The signature still covers the public URL, as when the bridge sits behind a proxy.
        """
        self._routes[public_base] = local_base

    def calls_to(self, name: str) -> list[RecordedCall]:
        return [call for call in self.calls if call.method == name]

    # -- failures --------------------------------------------------------------------

    def fail(
        self,
        status: int = 500,
        times: int = 1,
        *,
        endpoint: str = ANY,
        retry_after: int | None = None,
        code: int | None = None,
    ) -> None:
        """Make the next `times` REST calls (of `endpoint`, e.g. "messages.create") fail."""
        self._failures.add_times(endpoint, _failure(status, retry_after, code), times)

    def fail_for(
        self,
        seconds: float,
        status: int = 500,
        *,
        endpoint: str = ANY,
        retry_after: int | None = None,
        code: int | None = None,
    ) -> None:
        """Make every REST call (of `endpoint`) fail for the next `seconds`."""
        self._failures.add_window(endpoint, _failure(status, retry_after, code), seconds)

    def clear_failures(self) -> None:
        self._failures.clear()

    # -- webhooks to the bridge ------------------------------------------------------

    def sign(self, url: str, params: Mapping[str, str]) -> str:
        """The `X-Twilio-Signature` Twilio sends for a form POST of `params` to `url`."""
        validator = RequestValidator(self.auth_token)
        return str(validator.compute_signature(url, dict(params)))

    async def send_inbound(
        self,
        webhook_url: str,
        *,
        public_url: str | None = None,
        from_: str,
        to: str,
        body: str,
        message_sid: str | None = None,
        media: Sequence[tuple[str, str]] = (),
    ) -> WebhookResponse:
        """POST an inbound SMS to `webhook_url`, signed for `public_url` (default: the same).

        `media` holds (url, content type) pairs. With `keyword_opt_out`, a STOP or START
        body blocks or unblocks the sender first, as Twilio does before forwarding it.
        """
        sid = message_sid or _sid("SM")
        params = {
            "ToCountry": _country(to),
            "ToState": "",
            "ToCity": "",
            "ToZip": "",
            "SmsMessageSid": sid,
            "NumMedia": str(len(media)),
            "SmsSid": sid,
            "SmsStatus": "received",
            "Body": body,
            "FromCountry": _country(from_),
            "FromState": "",
            "FromCity": "",
            "FromZip": "",
            "To": to,
            "From": from_,
            "NumSegments": str(_segments(body)),
            "MessageSid": sid,
            "AccountSid": self.account_sid,
            "ApiVersion": API_VERSION,
        }
        for index, (url, content_type) in enumerate(media):
            params |= {f"MediaUrl{index}": url, f"MediaContentType{index}": content_type}
        keyword = body.strip().upper()
        if from_.startswith(WHATSAPP):
            self.whatsapp_inbound[from_] = time.time()
        elif self.keyword_opt_out and keyword in OPT_OUT_KEYWORDS:
            self.opt_out(from_)
        elif self.keyword_opt_out and keyword in OPT_IN_KEYWORDS:
            self.opt_in(from_)
        return await self._post_webhook(webhook_url, public_url or webhook_url, params)

    async def text(
        self, from_: str, to: str, body: str, *, media: Sequence[tuple[str, str]] = ()
    ) -> WebhookResponse:
        """A phone texts one of the account's numbers: post to that number's SmsUrl (to
        its WhatsApp sender's callback URL for `whatsapp:` addresses)."""
        if to.startswith(WHATSAPP):
            sender = next(
                (s for s in self.whatsapp_senders.values() if f"{WHATSAPP}{s.number}" == to), None
            )
            url = sender.callback_url if sender else None
        else:
            number = next((n for n in self.numbers.values() if n.phone_number == to), None)
            url = number.sms_url if number else None
        if not url:
            raise ValueError(f"{to} is not a sender of this account with an inbound URL")
        return await self.send_inbound(url, from_=from_, to=to, body=body, media=media)

    async def send_status(
        self, sid: str, status: str, error_code: int | None = None
    ) -> WebhookResponse:
        """Post one status callback for a sent message (and record the new status on it)."""
        message = self.message(sid)
        if message.status_callback is None:
            raise ValueError(f"message {sid} was sent without a StatusCallback")
        message.status = status
        if status in _FAILED_STATUSES:
            message.error_code = error_code or 30008  # Twilio's "unknown error"
        params = {
            "MessageSid": sid,
            "SmsSid": sid,
            "MessageStatus": status,
            "SmsStatus": status,
            "AccountSid": self.account_sid,
            "From": message.from_ or self._any_number(),
            "To": message.to,
            "ApiVersion": API_VERSION,
        }
        if message.messaging_service_sid:
            params["MessagingServiceSid"] = message.messaging_service_sid
        if status in _FAILED_STATUSES:
            params["ErrorCode"] = str(message.error_code)
        url = message.status_callback
        answer = await self._post_webhook(url, url, params)
        self.status_callbacks.append(StatusCallback(url, params, answer.status))
        return answer

    async def _post_webhook(
        self, url: str, signed_url: str, params: dict[str, str]
    ) -> WebhookResponse:
        headers = {
            "X-Twilio-Signature": self.sign(signed_url, params),
            "User-Agent": "TwilioProxy/1.1",
        }
        timeout = aiohttp.ClientTimeout(total=WEBHOOK_TIMEOUT_SECONDS)
        try:
            async with (
                aiohttp.ClientSession(timeout=timeout) as session,
                session.post(self._reachable(url), data=params, headers=headers) as answer,
            ):
                text = await answer.text()
                return WebhookResponse(answer.status, text, answer.headers.get("Retry-After"))
        except (aiohttp.ClientError, TimeoutError) as exc:
            # Twilio records an unreachable webhook as an error and moves on.
            return WebhookResponse(0, repr(exc))

    def _reachable(self, url: str) -> str:
        for public, local in self._routes.items():
            if url.startswith(public):
                return local + url[len(public) :]
        return url

    def _any_number(self) -> str:
        # A Messaging Service picks a sender from its pool; the emulator's pool is every number.
        return next((n.phone_number for n in self.numbers.values()), "")

    async def _post_statuses(self, sid: str) -> None:
        for status in self.auto_status:
            await self.send_status(sid, status)

    # -- HTTP plumbing ---------------------------------------------------------------

    def _endpoint(
        self, name: str, handler: _Endpoint
    ) -> Callable[[web.Request], Awaitable[web.Response]]:
        """Wrap a REST handler with what every endpoint does: delay, failures, auth, log."""

        async def serve(request: web.Request) -> web.Response:
            params = dict(request.query)
            if request.method == "POST":
                form = await request.post()
                params |= {key: value for key, value in form.items() if isinstance(value, str)}
            if self.delay_seconds:
                self.held.append(name)
                await asyncio.sleep(self.delay_seconds)
            status, body, headers = await self._answer(name, request, params, handler)
            error = str(body.get("code")) if status >= 400 else None
            self.calls.append(RecordedCall(name, params, time.time(), status, error))
            return web.json_response(body, status=status, headers=headers)

        return serve

    async def _answer(
        self, name: str, request: web.Request, params: dict[str, str], handler: _Endpoint
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        failure = self._failures.take(name)
        if failure is not None:
            headers = {}
            if failure.retry_after is not None:
                headers["Retry-After"] = str(failure.retry_after)
            phrase = HTTPStatus(failure.status).phrase
            error = TwilioError(failure.status, failure.code or 20000 + failure.status, phrase)
            return failure.status, error.to_api(), headers
        if not self._authorized(request):
            error = TwilioError(401, 20003, "Authenticate")
            return 401, error.to_api(), {"WWW-Authenticate": 'Basic realm="Twilio API"'}
        if request.match_info.get("account", self.account_sid) != self.account_sid:
            error = TwilioError(404, 20404, "The requested resource was not found")
            return 404, error.to_api(), {}
        try:
            status, body = await handler(request, params)
        except TwilioError as exc:
            return exc.status, exc.to_api(), {}
        return status, body, {}

    def _authorized(self, request: web.Request) -> bool:
        given = request.headers.get("Authorization", "").encode()
        expected = encode_basic_auth(self.account_sid, self.auth_token).encode()
        return hmac.compare_digest(given, expected)

    async def _serve_media(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        media = self._media.get(name)
        if not self._authorized(request):
            answer = web.Response(status=401, headers={"WWW-Authenticate": 'Basic realm="Twilio"'})
        elif name in self._media_redirects:
            answer = web.Response(status=302, headers={"Location": self._media_redirects[name]})
        elif media is None:
            answer = web.Response(status=404)
        else:
            answer = web.Response(body=media.data, content_type=media.content_type)
        self.calls.append(RecordedCall("media.fetch", {"name": name}, time.time(), answer.status))
        return answer

    # -- REST endpoints --------------------------------------------------------------

    async def _account(
        self, _request: web.Request, _params: dict[str, str]
    ) -> tuple[int, dict[str, Any]]:
        created = _now()
        return 200, {
            "sid": self.account_sid,
            "owner_account_sid": self.account_sid,
            "friendly_name": "Sandbox account",
            "status": "active",
            "type": "Full",
            "date_created": created,
            "date_updated": created,
            "uri": f"{_account_path(self.account_sid)}.json",
        }

    async def _create_message(
        self, _request: web.Request, params: dict[str, str]
    ) -> tuple[int, dict[str, Any]]:
        to = params.get("To", "")
        from_ = params.get("From") or None
        service = params.get("MessagingServiceSid") or None
        body = params.get("Body", "")
        if not to:
            raise TwilioError(400, 21604, "A 'To' phone number is required.")
        if from_ is None and service is None:
            raise TwilioError(400, 21603, "A 'From' phone number is required.")
        if not body and "MediaUrl" not in params:
            raise TwilioError(400, 21602, "Message body is required.")
        if len(body) > 1600:
            raise TwilioError(
                400, 21617, "The concatenated message body exceeds the 1600 character limit."
            )
        if not _E164.match(to.removeprefix(WHATSAPP)):
            raise TwilioError(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if to in self.blocked:
            raise TwilioError(400, 21610, "Attempt to send to unsubscribed recipient")
        if to.startswith(WHATSAPP) and (
            time.time() - self.whatsapp_inbound.get(to, 0.0) > WHATSAPP_WINDOW_SECONDS
        ):
            raise TwilioError(
                400,
                63016,
                "Failed to send freeform message because you are outside the allowed window."
                " If you are using WhatsApp, please use a Message Template.",
            )
        message = SentMessage(
            sid=_sid("SM"),
            account_sid=self.account_sid,
            to=to,
            from_=from_,
            body=body,
            # The initial status gets no callback: "accepted" via a service, else "queued".
            status="accepted" if service else "queued",
            status_callback=params.get("StatusCallback") or None,
            messaging_service_sid=service,
            num_segments=_segments(body),
            params=params,
        )
        self.sent.append(message)
        if message.status_callback and self.auto_status:
            task = asyncio.create_task(self._post_statuses(message.sid))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        if self.lose_answers > 0:
            self.lose_answers -= 1
            raise TwilioError(500, 20500, "Internal Server Error")
        return 201, message.to_api()

    async def _list_messages(
        self, _request: web.Request, params: dict[str, str]
    ) -> tuple[int, dict[str, Any]]:
        to, from_ = params.get("To"), params.get("From")
        found = [
            m
            for m in reversed(self.sent)  # newest first, as Twilio lists them
            if (to is None or m.to == to) and (from_ is None or m.from_ == from_)
        ]
        size = int(params.get("PageSize", "50"))
        path = f"{_account_path(self.account_sid)}/Messages.json"
        return 200, {
            "messages": [m.to_api() for m in found[:size]],
            "page": 0,
            "page_size": size,
            "start": 0,
            "end": max(min(size, len(found)) - 1, 0),
            "uri": f"{path}?{urlencode({'PageSize': size})}",
            "first_page_uri": f"{path}?{urlencode({'PageSize': size, 'Page': 0})}",
            "previous_page_uri": None,
            "next_page_uri": None,
        }

    async def _list_numbers(
        self, _request: web.Request, params: dict[str, str]
    ) -> tuple[int, dict[str, Any]]:
        wanted = params.get("PhoneNumber", "")
        found = [n for n in self.numbers.values() if wanted in n.phone_number]
        size = int(params.get("PageSize", "50"))
        page = int(params.get("Page", "0"))
        path = f"{_account_path(self.account_sid)}/IncomingPhoneNumbers.json"

        def page_uri(number: int) -> str:
            query = {"PhoneNumber": wanted} if wanted else {}
            return f"{path}?{urlencode(query | {'PageSize': size, 'Page': number})}"

        start = page * size
        records = found[start : start + size]
        return 200, {
            "incoming_phone_numbers": [n.to_api() for n in records],
            "page": page,
            "page_size": size,
            "start": start,
            "end": start + max(len(records) - 1, 0),
            "uri": page_uri(page),
            "first_page_uri": page_uri(0),
            "previous_page_uri": page_uri(page - 1) if page > 0 else None,
            "next_page_uri": page_uri(page + 1) if start + size < len(found) else None,
        }

    async def _service(
        self, request: web.Request, params: dict[str, str]
    ) -> tuple[int, dict[str, Any]]:
        sid = request.match_info["service"]
        if sid not in self.services:
            raise TwilioError(404, 20404, "The requested resource was not found")
        if request.method == "POST" and "InboundRequestUrl" in params:
            self.services[sid] = params["InboundRequestUrl"]
        return 200, {
            "sid": sid,
            "account_sid": self.account_sid,
            "friendly_name": "Sandbox service",
            "inbound_request_url": self.services[sid],
            "inbound_method": "POST",
            "use_inbound_webhook_on_number": params.get("UseInboundWebhookOnNumber") == "true",
            "url": f"{self.base_url}/v1/Services/{sid}",
        }

    async def _update_number(
        self, request: web.Request, params: dict[str, str]
    ) -> tuple[int, dict[str, Any]]:
        number = self.numbers.get(request.match_info["number"])
        if number is None:
            raise TwilioError(404, 20404, "The requested resource was not found")
        number.sms_url = params.get("SmsUrl", number.sms_url)
        number.sms_method = params.get("SmsMethod", number.sms_method)
        number.friendly_name = params.get("FriendlyName", number.friendly_name)
        number.date_updated = _now()
        return 200, number.to_api()

    async def _list_senders(
        self, _request: web.Request, params: dict[str, str]
    ) -> tuple[int, dict[str, Any]]:
        channel = params.get("Channel", "whatsapp").lower()
        senders = list(self.whatsapp_senders.values()) if channel == "whatsapp" else []
        size = int(params.get("PageSize", "50"))
        return 200, {
            "senders": [s.to_api(self.base_url) for s in senders[:size]],
            "meta": {
                "key": "senders",
                "page": 0,
                "page_size": size,
                "first_page_url": f"{self.base_url}/v2/Channels/Senders?PageSize={size}&Page=0",
                "previous_page_url": None,
                "next_page_url": None,
                "url": f"{self.base_url}/v2/Channels/Senders?PageSize={size}&Page=0",
            },
        }

    async def _update_sender(
        self, request: web.Request, _params: dict[str, str]
    ) -> tuple[int, dict[str, Any]]:
        sender = self.whatsapp_senders.get(request.match_info["sender"])
        if sender is None:
            raise TwilioError(404, 20404, "The requested resource was not found")
        webhook = (await request.json()).get("webhook") or {}
        if webhook.get("callback_url"):
            sender.callback_url = webhook["callback_url"]
        return 200, sender.to_api(self.base_url)


def _failure(status: int, retry_after: int | None, code: int | None) -> Failure:
    # Twilio's generic codes are 20000 + HTTP status (20429 Too Many Requests, 20500, 20503).
    return Failure(status, retry_after, code=code or 20000 + status)
