"""The demo's little world: both emulators, the real bridge between them, and what the
people on the page do — a phone texts; an agent replies, edits, deletes, reacts, runs a
slash command, clicks a button, opens the App Home.

The bridge is built exactly as `sms-bridge serve` builds it (settings from
`load_settings`, the business configuration from `load_business_config`, `build_app`)
and is reached only the way Slack and Twilio reach it: signed HTTP requests.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import secrets
import socket
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from xml.etree import ElementTree

import aiohttp
import phonenumbers
from aiohttp import web

from bridge.app import build_app, make_store
from bridge.config import BusinessConfig, Settings, load_business_config, load_settings
from bridge.models import Contact
from bridge.phones import InvalidPhone, to_e164
from bridge.sandbox.demo_sample import SAMPLE_PHOTO, People, write_business_config
from bridge.sandbox.recorder import WebhookResponse
from bridge.sandbox.slack_emulator import Ephemeral, Kind, Message, SlackEmulator
from bridge.sandbox.twilio_emulator import OPT_IN_KEYWORDS, OPT_OUT_KEYWORDS, TwilioEmulator

INBOX = "C0SMSINBOX"
INBOX_NAME = "sms-inbox"
BUSINESS_NUMBER = "+14155550100"
# What Twilio signs webhooks for; the Twilio emulator routes it to the local bridge,
# as a reverse proxy would in production.
PUBLIC_URL = "https://sms-bridge.sandbox.invalid"
VERIFICATION_TOKEN = "sandbox-verification-token"  # noqa: S105 - Slack's legacy field, unused
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
class CommandRecord:
    user: str
    command: str
    text: str
    at: float
    status: int | None = None
    body: str = ""


@dataclass(frozen=True)
class _ResponseTarget:
    """Where a `response_url` answer goes: who asked, where, and about which message."""

    user: str
    channel: str
    thread_ts: str | None = None
    message_ts: str | None = None
    ephemeral: bool = False


@dataclass
class Sandbox:
    people: People
    workdir: Path
    changes: Changes = field(default_factory=Changes)
    slack: SlackEmulator = field(default_factory=SlackEmulator)
    twilio: TwilioEmulator = field(init=False)
    subscribers: dict[str, str] = field(default_factory=dict)  # phone -> name
    phone_log: list[PhoneEntry] = field(default_factory=list)
    commands: list[CommandRecord] = field(default_factory=list)
    sent_at: dict[str, float] = field(default_factory=dict)  # Twilio sid -> first seen
    bridge_url: str = ""
    page_url: str = ""  # where response_url answers go; set once the page serves
    settings: Settings | None = None
    config: BusinessConfig | None = None
    _responses: dict[str, _ResponseTarget] = field(default_factory=dict)
    _runner: web.AppRunner | None = None
    _http: aiohttp.ClientSession | None = None

    def __post_init__(self) -> None:
        self.twilio = _Twilio(self.changes)
        self.subscribers = {s.phone: s.name for s in self.people.subscribers}

    # -- life cycle ---------------------------------------------------------------------

    async def start(self) -> None:
        for app in (self.slack.app, self.twilio.app):
            app.middlewares.append(self._notify)
        await self.slack.start()
        await self.twilio.start()
        self.slack.add_channel(INBOX, INBOX_NAME)
        for agent in self.people.agents:
            self.slack.add_user(agent.id, agent.name, agent.real_name, agent.display_name)

        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        port = int(listener.getsockname()[1])
        self.settings = settings = self._settings(port)
        # The serve path from here on: the business configuration file, then build_app.
        self.config = config = load_business_config(settings.bridge_config)
        await self._put_contacts(
            [Contact(phone=p, name=n) for p, n in self.subscribers.items() if n]
        )
        app = await build_app(settings, config)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.SockSite(self._runner, listener).start()
        self.bridge_url = f"http://127.0.0.1:{port}"
        self.twilio.route_webhooks(PUBLIC_URL, self.bridge_url)
        self.twilio.add_number(BUSINESS_NUMBER, sms_url=f"{PUBLIC_URL}/sms/inbound")
        self._http = aiohttp.ClientSession()

    def _settings(self, port: int) -> Settings:
        """What an operator would put in the environment, pointed at the emulators. Every
        setting that matters is given, so a `.env` or a shell's variables cannot point the
        demo at a real workspace, number or database."""
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
            twilio_api_url=self.twilio.base_url,
            bridge_public_url=PUBLIC_URL,
            mongodb_uri=None,
            bridge_db_path=self.workdir / "demo.db",
            anthropic_api_key=None,
            bridge_config=write_business_config(self.workdir / "business.yml"),
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
        if self._runner is not None:
            await self._runner.cleanup()  # the bridge's clean-up stops its workers
        if self._http is not None:
            await self._http.close()
        await self.twilio.stop()
        await self.slack.stop()

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
        store = make_store(self.settings)
        await store.open()
        try:
            for contact in contacts:
                await store.put_contact(contact)
        finally:
            await store.close()

    # -- the phones -----------------------------------------------------------------------

    async def add_subscriber(self, raw_phone: str, name: str) -> str:
        try:
            phone = to_e164(raw_phone)
        except InvalidPhone as exc:
            raise ValueError(str(exc)) from None
        if not phone.startswith("+"):
            raise ValueError("a subscriber needs a full phone number, not a short code")
        if phone == BUSINESS_NUMBER:
            raise ValueError("that is the business's own number")
        if name or phone not in self.subscribers:
            self.subscribers[phone] = name
        if name:
            await self._put_contacts([Contact(phone=phone, name=name)])
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
        if self.twilio.keyword_opt_out and keyword in OPT_OUT_KEYWORDS:
            self._log(phone, "received", TWILIO_OPT_OUT_REPLY, "delivered", "Twilio")
        elif self.twilio.keyword_opt_out and keyword in OPT_IN_KEYWORDS:
            self._log(phone, "received", TWILIO_OPT_IN_REPLY, "delivered", "Twilio")
        self.changes.bump()
        answer = await self.twilio.text(phone, BUSINESS_NUMBER, body, media=media)
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
        """The ts of the newest header card that names this phone number."""
        try:
            digits = str(phonenumbers.parse(phone, None).national_number)
        except phonenumbers.NumberParseException:
            return None
        for parent in reversed(self.slack.messages(INBOX)):
            strings = _strings({"text": parent.text, "blocks": parent.blocks})
            if any(digits in re.sub(r"\D", "", text) for text in strings):
                return parent.ts
        return None

    # -- Slack: what an agent does in the client --------------------------------------------

    def _agent(self, user: str) -> str:
        for agent in self.people.agents:
            if agent.id == user:
                return agent.name
        raise ValueError(f"{user} is not an agent of this workspace")

    def _own_message(self, user: str, ts: str) -> Message:
        message = self.slack.message(INBOX, ts)
        if message is None:
            raise ValueError("that message no longer exists")
        if message.user != user:
            raise ValueError("only its author can change a message")
        return message

    def typed(self, text: str, *, command: bool = False) -> str:
        """What the Slack client sends for what a person typed: `&`, `<` and `>` escaped,
        `@name` of a workspace member as a mention, and (in messages) bare links and
        `@here` marked up. Commands get mentions as `<@U…|name>`, like a slash command
        created with "escape channels, users and links" (`should_escape: true`)."""
        out = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        names = sorted(
            (
                (name, agent)
                for agent in self.people.agents
                for name in {agent.name, agent.display_name, agent.real_name}
                if name
            ),
            key=lambda pair: -len(pair[0]),
        )
        for name, agent in names:
            mention = f"<@{agent.id}|{agent.name}>" if command else f"<@{agent.id}>"
            pattern = rf"(?<![\w@<])@{re.escape(name)}(?![\w])"
            out = re.sub(pattern, mention.replace("\\", "\\\\"), out, flags=re.IGNORECASE)
        if not command:
            out = re.sub(r"(?<![\w<])@(here|channel|everyone)\b", r"<!\1>", out)
            out = re.sub(r"(?<![<|\w])(https?://[^\s<>|]+[^\s<>|.,!?;:)])", r"<\1>", out)
        return out

    async def post(self, user: str, text: str, thread_ts: str | None = None) -> WebhookResponse:
        self._agent(user)
        event = self.slack.user_posts(INBOX, user, self.typed(text), thread_ts=thread_ts)
        return await self._deliver(event)

    async def edit(self, user: str, ts: str, text: str) -> WebhookResponse:
        self._own_message(user, ts)
        return await self._deliver(self.slack.user_edits(INBOX, ts, self.typed(text)))

    async def delete(self, user: str, ts: str) -> WebhookResponse:
        self._own_message(user, ts)
        return await self._deliver(self.slack.user_deletes(INBOX, ts))

    async def react(self, user: str, ts: str, name: str) -> WebhookResponse:
        """Add the reaction, or take it back when this user already added it."""
        self._agent(user)
        message = self.slack.message(INBOX, ts)
        if message is None:
            raise ValueError("that message no longer exists")
        users = message.reactions.get(name, [])
        if user not in users:
            return await self._deliver(self.slack.user_reacts(INBOX, ts, user, name))
        users.remove(user)
        if not users:
            del message.reactions[name]
        event = {
            "type": "reaction_removed",
            "user": user,
            "reaction": name,
            "item_user": message.user,
            "item": {"type": "message", "channel": INBOX, "ts": ts},
            "event_ts": _ts(),
        }
        return await self._deliver(event)

    async def command(self, user: str, line: str, thread_ts: str | None = None) -> CommandRecord:
        """A slash command typed in the channel (or a thread): the signed form Slack sends."""
        command, _, text = line.strip().partition(" ")
        if not re.fullmatch(r"/[a-z0-9_-]+", command):
            raise ValueError("a slash command starts with / and a name, like /sms help")
        target = _ResponseTarget(user=user, channel=INBOX, thread_ts=thread_ts)
        form = {
            "token": VERIFICATION_TOKEN,
            "team_id": self.slack.team_id,
            "team_domain": "sandbox",
            "channel_id": INBOX,
            "channel_name": INBOX_NAME,
            "user_id": user,
            "user_name": self._agent(user),
            "command": command,
            "text": self.typed(text.strip(), command=True),
            "api_app_id": self.slack.app_id,
            "is_enterprise_install": "false",
            "response_url": self._response_url(target),
            "trigger_id": _trigger_id(),
        }
        record = CommandRecord(user, command, text.strip(), time.time())
        self.commands.append(record)
        answer = await self._deliver(form, "command")
        record.status, record.body = answer.status, answer.text
        if answer.status == 200 and answer.text.strip():
            await self.respond_to(target, _response_body(answer.text))
        self.changes.bump()
        return record

    async def action(
        self,
        user: str,
        *,
        message_ts: str = "",
        block_id: str,
        element: Mapping[str, Any],
        ephemeral: bool = False,
        home: bool = False,
        selected: Mapping[str, Any] | None = None,
    ) -> WebhookResponse:
        """A click on a Block Kit element (in a message, an ephemeral message or the App
        Home): the signed `block_actions` payload Slack sends."""
        name = self._agent(user)
        action: dict[str, Any] = {
            "type": str(element.get("type", "button")),
            "action_id": str(element.get("action_id", "")),
            "block_id": block_id,
            "action_ts": _ts(),
        }
        for key in ("text", "value", "style"):
            if key in element:
                action[key] = element[key]
        if selected is not None:
            action["selected_option"] = dict(selected)
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": {"id": user, "username": name, "name": name, "team_id": self.slack.team_id},
            "api_app_id": self.slack.app_id,
            "token": VERIFICATION_TOKEN,
            "trigger_id": _trigger_id(),
            "team": {"id": self.slack.team_id, "domain": "sandbox"},
            "enterprise": None,
            "is_enterprise_install": False,
            "state": {"values": {}},
            "actions": [action],
        }
        if home:
            view = self.slack.home_views.get(user)
            if view is None:
                raise ValueError("there is no Home tab to click in")
            payload |= {"container": {"type": "view", "view_id": view["id"]}, "view": view}
            return await self._deliver(payload, "interactive")
        thread_ts = self._clicked(message_ts, ephemeral, payload)
        container: dict[str, Any] = {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": INBOX,
            "is_ephemeral": ephemeral,
        }
        if thread_ts is not None:
            container["thread_ts"] = thread_ts
        target = _ResponseTarget(user, INBOX, thread_ts, message_ts, ephemeral)
        payload |= {
            "container": container,
            "channel": {"id": INBOX, "name": INBOX_NAME},
            "response_url": self._response_url(target),
        }
        return await self._deliver(payload, "interactive")

    def _clicked(self, message_ts: str, ephemeral: bool, payload: dict[str, Any]) -> str | None:
        """The thread of the message clicked in; a shared message goes in the payload."""
        if ephemeral:
            found = next((e for e in self.slack.ephemerals if e.ts == message_ts), None)
            if found is None:
                raise ValueError("that message is gone")
            return found.thread_ts
        message = self.slack.message(INBOX, message_ts)
        if message is None:
            raise ValueError("that message is gone")
        payload["message"] = message.to_api(self.slack.team_id, self.slack.app_id)
        return message.thread_ts

    async def open_home(self, user: str) -> WebhookResponse:
        """The agent opens the app's Home tab: Slack sends `app_home_opened`."""
        self._agent(user)
        event: dict[str, Any] = {
            "type": "app_home_opened",
            "user": user,
            "channel": "D" + user[1:],
            "tab": "home",
            "event_ts": _ts(),
        }
        if user in self.slack.home_views:
            event["view"] = self.slack.home_views[user]
        return await self._deliver(event)

    async def _deliver(self, payload: Mapping[str, Any], kind: Kind = "event") -> WebhookResponse:
        self.changes.bump()  # the agent's own message shows before the bridge answers
        try:
            return await self.slack.deliver(f"{self.bridge_url}/slack/events", payload, kind)
        except (aiohttp.ClientError, TimeoutError) as exc:
            return WebhookResponse(0, f"the bridge did not answer: {exc!r}")
        finally:
            self.changes.bump()

    # -- response_url: what the bridge posts back about a command or a click ------------

    def _response_url(self, target: _ResponseTarget) -> str:
        key = secrets.token_urlsafe(12)
        self._responses[key] = target
        return f"{self.page_url}/slack/response/{key}"

    async def respond(self, key: str, body: Mapping[str, Any]) -> bool:
        target = self._responses.get(key)
        if target is None:
            return False
        await self.respond_to(target, body)
        return True

    async def respond_to(self, target: _ResponseTarget, body: Mapping[str, Any]) -> None:
        """Slack's rules: delete or replace the message the click came from, post in the
        channel for `in_channel`, else an ephemeral message to the person who asked."""
        text, blocks = str(body.get("text", "")), body.get("blocks")
        if target.message_ts and (body.get("delete_original") or body.get("replace_original")):
            self._replace(target, text, blocks, delete=bool(body.get("delete_original")))
        elif body.get("response_type") == "in_channel":
            await self._post_as_app(target, text, blocks)
        elif text or blocks:
            self.slack.ephemerals.append(
                Ephemeral(INBOX, target.user, text, _ts(), target.thread_ts, blocks)
            )
        self.changes.bump()

    def _replace(self, target: _ResponseTarget, text: str, blocks: Any, *, delete: bool) -> None:
        assert target.message_ts is not None
        if target.ephemeral:
            kept = [e for e in self.slack.ephemerals if e.ts != target.message_ts]
            if not delete:
                kept.append(Ephemeral(INBOX, target.user, text, _ts(), target.thread_ts, blocks))
            self.slack.ephemerals[:] = kept
            return
        message = self.slack.message(INBOX, target.message_ts)
        if message is None:
            return
        if delete:
            self.slack.delete_message(INBOX, message.ts)
        else:
            message.text, message.blocks = text, blocks
            message.edited = {"user": message.user, "ts": _ts()}

    async def _post_as_app(self, target: _ResponseTarget, text: str, blocks: Any) -> None:
        assert self._http is not None
        args: dict[str, Any] = {"channel": INBOX, "text": text}
        if blocks:
            args["blocks"] = blocks
        if target.thread_ts:
            args["thread_ts"] = target.thread_ts
        headers = {"Authorization": f"Bearer {self.slack.token}"}
        url = f"{self.slack.base_url}/api/chat.postMessage"
        async with self._http.post(url, json=args, headers=headers) as answer:
            await answer.read()

    # -- waiting, for scenarios -------------------------------------------------------------

    async def wait_for_thread(self, phone: str, within: float = 10.0) -> str:
        deadline = time.monotonic() + within
        while (thread := self.thread_of(phone)) is None:
            if time.monotonic() > deadline:
                raise TimeoutError(f"no thread for {phone} yet")
            await asyncio.sleep(0.1)
        return thread


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


def _response_body(raw: str) -> dict[str, Any]:
    """A command's immediate answer: JSON as Bolt sends it, or plain text."""
    try:
        body = json.loads(raw)
    except json.JSONDecodeError:
        return {"text": raw}
    return body if isinstance(body, dict) else {"text": raw}


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _ts() -> str:
    return f"{time.time():.6f}"


def _trigger_id() -> str:
    return f"{int(time.time())}.{secrets.randbelow(10**12)}.{secrets.token_hex(16)}"
