"""The demo's little world: both emulators, the real bridge between them, and the
phones (what agents do in Slack is in `demo_slack_client`).

The bridge is built exactly as `sms-bridge serve` builds it (settings from
`load_settings`, the business configuration from `load_business_config`, `build_app`)
and is reached only the way Slack and Twilio reach it: signed HTTP requests.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import secrets
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from xml.etree import ElementTree

import phonenumbers
from aiohttp import web

from bridge.app import build_app, make_store
from bridge.campaigns.models import Campaign
from bridge.config import BusinessConfig, Settings, load_business_config, load_settings
from bridge.models import Address, Channel, Contact
from bridge.phones import to_e164
from bridge.sandbox.demo_clock import DemoClock, on_clock
from bridge.sandbox.demo_sample import (
    SAMPLE_DIR,
    SAMPLE_PHOTO,
    People,
    webhook_secrets,
    write_business_config,
)
from bridge.sandbox.mail_server import MailServer
from bridge.sandbox.recorder import WebhookResponse
from bridge.sandbox.slack_emulator import SlackEmulator
from bridge.sandbox.twilio_emulator import OPT_IN_KEYWORDS, OPT_OUT_KEYWORDS, TwilioEmulator
from bridge.sandbox.webhook_receiver import WebhookReceiver
from bridge.store.base import Store

INBOX = "C0SMSINBOX"
INBOX_NAME = "sms-inbox"
# The sample config's routing teams (bridge/sandbox/sample/business.yml): their channels.
TEAM_CHANNELS = {"C0SALES": "sales", "C0SUPPORT": "support"}
BUSINESS_NUMBER = "+14155550100"
# What Twilio signs webhooks for; the Twilio emulator routes it to the local bridge,
# as a reverse proxy would in production.
PUBLIC_URL = "https://sms-bridge.sandbox.invalid"
# What Twilio itself texts back to STOP and START on a long code (default opt-out handling).
TWILIO_OPT_OUT_REPLY = (
    "You have successfully been unsubscribed. You will not receive any more messages from"
    " this number. Reply START to resubscribe."
)
TWILIO_OPT_IN_REPLY = (
    "You have successfully been re-subscribed to messages from this number. Reply HELP for"
    " help. Reply STOP to unsubscribe. Msg&Data Rates May Apply."
)


class Changes:
    """A version number that moves whenever something the page shows may have changed."""

    def __init__(self) -> None:
        self.version = 0
        self.closed = False
        self._moved = asyncio.Event()

    def bump(self) -> None:
        self.version += 1
        self._moved.set()
        self._moved = asyncio.Event()

    def close(self) -> None:
        self.closed = True
        self.bump()

    async def wait(self, seen: int, within: float) -> int:
        """The version once it differs from `seen`, or after `within` seconds."""
        if self.version == seen and not self.closed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._moved.wait(), within)
        return self.version


class _Twilio(TwilioEmulator):
    """The Twilio emulator, telling the page when a status callback moves a message."""

    def __init__(self, changes: Changes) -> None:
        # Every reply is sent, then delivered, as a healthy phone network would report.
        super().__init__(auto_status=("sent", "delivered"))
        self._changes = changes

    async def send_status(
        self, sid: str, status: str, error_code: int | None = None
    ) -> WebhookResponse:
        try:
            return await super().send_status(sid, status, error_code)
        finally:
            self._changes.bump()


@dataclass
class PhoneEntry:
    """One bubble on a phone that the Twilio emulator does not keep: the phone's own texts
    (and how the bridge answered the webhook) and texts Twilio answered by itself."""

    id: int
    phone: str
    direction: Literal["sent", "received"]  # from the phone's point of view
    body: str
    at: float
    status: str  # sent: sending | ok | failed; received: delivered
    detail: str = ""
    photo: bool = False  # sent with the sample photo (an MMS)


@dataclass
class Sandbox:
    """Slack and Twilio emulators on loopback ports, the bridge between them, the phones."""

    people: People
    workdir: Path
    changes: Changes = field(default_factory=Changes)
    slack: SlackEmulator = field(default_factory=SlackEmulator)
    twilio: TwilioEmulator = field(init=False)
    # phone -> name; a WhatsApp phone's key is its address (`whatsapp:+1…`)
    subscribers: dict[str, str] = field(default_factory=dict)
    phone_log: list[PhoneEntry] = field(default_factory=list)
    sent_at: dict[str, float] = field(default_factory=dict)  # Twilio sid -> first seen
    clock: DemoClock = field(default_factory=DemoClock)  # the business's, set by scenarios
    bridge_url: str = ""
    page_url: str = ""  # where response_url answers go; set once the page serves
    settings: Settings | None = None
    config: BusinessConfig | None = None
    config_source: Path = SAMPLE_DIR / "business.yml"  # `sms-bridge demo --config`
    # Where notification emails go: the page's outbox shows them.
    mail: MailServer = field(init=False)
    hooks: WebhookReceiver = field(init=False)  # and where its webhooks go
    _runner: web.AppRunner | None = None

    def __post_init__(self) -> None:
        self.twilio = _Twilio(self.changes)
        self.mail = MailServer(on_mail=self.changes.bump)
        self.hooks = WebhookReceiver(on_delivery=self.changes.bump)
        self.subscribers = {s.phone: s.name for s in self.people.subscribers}

    # -- life cycle ---------------------------------------------------------------------

    async def start(self) -> None:
        for app in (self.slack.app, self.twilio.app):
            app.middlewares.append(self._notify)
        await self.slack.start()
        await self.twilio.start()
        await self.mail.start()
        await self.hooks.start()
        for agent in self.people.agents:
            self.slack.add_user(agent.id, agent.name, agent.real_name, agent.display_name)
        # The team works in the inbox channel; the bridge checks who may act by membership.
        for channel, name in {INBOX: INBOX_NAME, **TEAM_CHANNELS}.items():
            self.slack.add_channel(channel, name)
            self.slack.join(channel, self.slack.bot_user_id, *(a.id for a in self.people.agents))

        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        port = int(listener.getsockname()[1])
        self.settings = settings = self._settings(port)
        # The serve path from here on: the business configuration file, then build_app;
        # only the opening hours are read on the demo's clock.
        config = load_business_config(settings.bridge_config)
        self.config = config = config.model_copy(
            update={"business": on_clock(config.business, self.clock)}
        )
        tags = {s.phone: s.tags for s in self.people.subscribers}
        await self._put_contacts(
            [
                Contact(phone=Address.parse(p).id, name=n, tags=tags.get(p, ()))
                for p, n in self.subscribers.items()
                if n
            ]
        )
        app = await build_app(settings, config)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.SockSite(self._runner, listener).start()
        self.bridge_url = f"http://127.0.0.1:{port}"
        self.slack.echo_url = f"{self.bridge_url}/slack/events"  # the app's Request URL
        self.twilio.route_webhooks(PUBLIC_URL, self.bridge_url)
        self.twilio.add_number(BUSINESS_NUMBER, sms_url=f"{PUBLIC_URL}/sms/inbound")
        # The business number is a WhatsApp sender too: its messages come to the same URL.
        self.twilio.add_whatsapp_sender(BUSINESS_NUMBER, callback_url=f"{PUBLIC_URL}/sms/inbound")

    def _settings(self, port: int) -> Settings:
        """What an operator would put in the environment, pointed at the emulators. Every
        setting that matters is given, so a `.env` or a shell's variables cannot point the
        demo at a real workspace, number or database."""
        config = write_business_config(
            self.workdir / "business.yml",
            self.config_source,
            smtp_url=f"smtp://127.0.0.1:{self.mail.port}",
            webhook_url=self.hooks.url,
        )
        self.hooks.secrets = webhook_secrets(config)
        return load_settings(
            _env_file=None,
            slack_bot_token=self.slack.token,
            slack_signing_secret=self.slack.signing_secret,
            slack_app_token=None,
            slack_inbox_channel=INBOX,
            slack_api_url=f"{self.slack.base_url}/api",
            twilio_account_sid=self.twilio.account_sid,
            twilio_auth_token=self.twilio.auth_token,
            twilio_from_number=BUSINESS_NUMBER,
            twilio_messaging_service_sid=None,
            twilio_whatsapp_numbers=[BUSINESS_NUMBER],
            twilio_api_url=self.twilio.base_url,
            bridge_public_url=PUBLIC_URL,
            mongodb_uri=None,
            bridge_db_path=self.workdir / "demo.db",
            anthropic_api_key=None,
            bridge_config=config,
            bridge_host="127.0.0.1",
            port=port,
            bridge_log_level="warning",
            # Fast enough to feel instant; the emulators do not rate-limit.
            bridge_slack_post_rate=200,
            bridge_slack_post_burst=50,
            bridge_sms_rate=50,
        )

    async def stop(self) -> None:
        self.changes.close()
        self.slack.echo_url = None
        if self._runner is not None:
            await self._runner.cleanup()  # the bridge's clean-up stops its workers
        await self.twilio.stop()
        await self.slack.stop()
        await self.mail.stop()
        await self.hooks.stop()

    @web.middleware
    async def _notify(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        """Every API call the bridge makes may change what the page shows."""
        try:
            return await handler(request)
        finally:
            now = time.time()
            for sent in self.twilio.sent:
                self.sent_at.setdefault(sent.sid, now)
            self.changes.bump()

    async def _put_contacts(self, contacts: list[Contact]) -> None:
        """Names for the header cards, as `contacts import` would store them."""
        if not contacts or self.settings is None:
            return
        async with self._store() as store:
            for contact in contacts:
                await store.put_contact(contact)

    async def campaign_id(self, name: str) -> str:
        """The id of the newest campaign named `name` (what an agent reads in Slack)."""
        async with self._store() as store:
            return (await _campaign(store, name)).id

    async def campaign_sent(self, name: str) -> bool:
        """Whether the newest campaign named `name` has sent (or skipped) every text
        (False while there is none: the dialog creates it just after its answer)."""
        async with self._store() as store:
            campaign = await _newest(store, name)
            if campaign is None:
                return False
            progress = await store.campaign_progress(campaign.id)
        return progress.total > 0 and progress.pending == progress.queued == 0

    @contextlib.asynccontextmanager
    async def _store(self) -> AsyncIterator[Store]:
        """A connection of the demo's own to the bridge's store, as the CLI would open."""
        if self.settings is None:
            raise RuntimeError("the demo's bridge is not running")
        store = make_store(self.settings)
        await store.open()
        try:
            yield store
        finally:
            await store.close()

    # -- the phones -----------------------------------------------------------------------

    async def add_subscriber(self, raw_phone: str, name: str) -> str:
        """A phone, or with `whatsapp:` before its number a WhatsApp user; the key of
        its entry in `subscribers` (the address, for WhatsApp)."""
        try:
            address = Address.parse(raw_phone)
            number = to_e164(address.id)
        except ValueError as exc:  # InvalidPhone, or an unknown channel
            raise ValueError(str(exc)) from None
        if not number.startswith("+"):
            raise ValueError("a subscriber needs a full phone number, not a short code")
        if number == BUSINESS_NUMBER:
            raise ValueError("that is the business's own number")
        phone = number if address.channel is Channel.SMS else f"{address.channel}:{number}"
        if name or phone not in self.subscribers:
            self.subscribers[phone] = name
        if name:
            await self._put_contacts([Contact(phone=number, name=name)])
        self.changes.bump()
        return phone

    async def text(self, phone: str, body: str, *, photo: bool = False) -> PhoneEntry:
        """The phone texts the business number: Twilio posts the signed webhook. With
        `photo`, an MMS: Twilio keeps the picture and passes its MediaUrl."""
        self.subscribers.setdefault(phone, "")
        media: list[tuple[str, str]] = []
        if photo:
            path = self.twilio.add_media(
                f"MM{secrets.token_hex(16)}", "image/jpeg", SAMPLE_PHOTO.read_bytes()
            )
            media.append((f"{self.twilio.base_url}{path}", "image/jpeg"))
        entry = self._log(phone, "sent", body, "sending")
        entry.photo = photo
        keyword = body.strip().upper()
        channel = Address.parse(phone).channel
        # Twilio answers keywords on SMS only.
        answers = self.twilio.keyword_opt_out and channel is Channel.SMS
        if answers and keyword in OPT_OUT_KEYWORDS:
            self._log(phone, "received", TWILIO_OPT_OUT_REPLY, "delivered", "Twilio")
        elif answers and keyword in OPT_IN_KEYWORDS:
            self._log(phone, "received", TWILIO_OPT_IN_REPLY, "delivered", "Twilio")
        self.changes.bump()
        business = Address(channel=channel, id=BUSINESS_NUMBER)
        to = BUSINESS_NUMBER if channel is Channel.SMS else str(business)
        answer = await self.twilio.text(phone, to, body, media=media)
        entry.status = "ok" if answer.status == 200 else "failed"
        entry.detail = f"the bridge answered {answer.status or 'nothing'}"
        # Twilio texts a TwiML <Message> answer back to the phone.
        for reply in twiml_messages(answer.text):
            self._log(phone, "received", reply, "delivered", "TwiML")
        self.changes.bump()
        return entry

    def _log(
        self,
        phone: str,
        direction: Literal["sent", "received"],
        body: str,
        status: str,
        detail: str = "",
    ) -> PhoneEntry:
        entry = PhoneEntry(len(self.phone_log) + 1, phone, direction, body, time.time(), status)
        entry.detail = detail
        self.phone_log.append(entry)
        return entry

    def thread_of(self, phone: str) -> str | None:
        """The ts of the newest header card that names this phone number, on its channel."""
        address = Address.parse(phone)
        try:
            digits = str(phonenumbers.parse(address.id, None).national_number)
        except phonenumbers.NumberParseException:
            return None
        for parent in reversed(self.slack.messages(INBOX)):
            if not parent.text.startswith(f"{address.channel.label} conversation"):
                continue
            strings = _strings({"text": parent.text, "blocks": parent.blocks})
            if any(digits in re.sub(r"\D", "", text) for text in strings):
                return parent.ts
        return None

    # -- waiting, for scenarios -------------------------------------------------------------

    async def wait_for_thread(self, phone: str, within: float = 10.0) -> str:
        deadline = time.monotonic() + within
        while (thread := self.thread_of(phone)) is None:
            if time.monotonic() > deadline:
                raise TimeoutError(f"no thread for {phone} yet")
            await asyncio.sleep(0.1)
        return thread


async def _newest(store: Store, name: str) -> Campaign | None:
    return next((c for c in await store.list_campaigns() if c.spec.name == name), None)


async def _campaign(store: Store, name: str) -> Campaign:
    found = await _newest(store, name)
    if found is None:
        raise ValueError(f"no campaign named {name!r}")
    return found


def twiml_messages(xml: str) -> list[str]:
    """The texts of the <Message> verbs in a TwiML answer (Twilio sends each to the phone)."""
    if "<Message" not in xml:
        return []
    try:
        root = ElementTree.fromstring(xml)  # noqa: S314 - the answer of our own local bridge
    except ElementTree.ParseError:
        return []
    texts = []
    for message in root.iter("Message"):
        body = message.find("Body")
        text = (body.text if body is not None else message.text) or ""
        if text.strip():
            texts.append(text.strip())
    return texts


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
