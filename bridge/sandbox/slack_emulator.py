"""A local Slack workspace: the Web API methods the bridge calls, plus signed event delivery.

The real `slack_sdk` clients talk to it (`AsyncWebClient(base_url=f"{url}/api/")`), so tests
exercise the SDK's own encoding, error handling and retry handlers. slack_sdk sends some
methods as JSON (chat.postMessage), some as query parameters on an empty form POST
(reactions.add, chat.delete) and some as GET (users.info); every method here reads all three.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import mimetypes
import secrets
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlencode

import aiohttp
from aiohttp import web
from slack_sdk.signature import SignatureVerifier

from bridge.sandbox.recorder import (
    ANY,
    Failure,
    FailureInjector,
    LocalServer,
    RecordedCall,
    WebhookResponse,
)

# Uploads go through the same app, so the bound is a file size, not a form size.
MAX_BODY_BYTES = 8 * 1024 * 1024
# Slack gives up on an Events API delivery after 3 seconds and retries it.
ACK_TIMEOUT_SECONDS = 3.0
# After a failed delivery Slack retries almost at once, then after 1 and 5 minutes.
SLACK_RETRY_DELAYS = (0.5, 60.0, 300.0)
# conversations.history for apps distributed outside the Marketplace: 15 per page.
HISTORY_PAGE_LIMIT = 15
_ENVELOPE_TYPES = {"event_callback", "url_verification", "app_rate_limited"}

Kind = Literal["event", "command", "interactive"]


@dataclass
class SlackMessage:
    """A message as Slack stores it. `user` is the bot user for the bridge's own posts."""

    channel: str
    ts: str
    text: str
    user: str
    bot_id: str | None = None
    thread_ts: str | None = None
    blocks: Any = None
    attachments: Any = None
    metadata: Any = None
    files: list[dict[str, Any]] = field(default_factory=list)
    reactions: dict[str, list[str]] = field(default_factory=dict)
    edited: dict[str, str] | None = None
    reply_count: int = 0
    # A bot's post shown under another name and icon (chat:write.customize).
    username: str | None = None
    icon_emoji: str | None = None

    @property
    def is_reply(self) -> bool:
        return self.thread_ts is not None and self.thread_ts != self.ts

    def to_api(self, team_id: str, app_id: str) -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": "message",
            "ts": self.ts,
            "user": self.user,
            "text": self.text,
            "team": team_id,
        }
        if self.bot_id is not None:
            out |= {"bot_id": self.bot_id, "app_id": app_id}
        optional = {
            "thread_ts": self.thread_ts,
            "blocks": self.blocks,
            "attachments": self.attachments,
            "metadata": self.metadata,
            "files": self.files or None,
            "edited": self.edited,
            "reply_count": self.reply_count or None,
            "username": self.username,
            "icons": {"emoji": self.icon_emoji} if self.icon_emoji else None,
        }
        out |= {key: value for key, value in optional.items() if value is not None}
        if self.reactions:
            out["reactions"] = [
                {"name": name, "users": users, "count": len(users)}
                for name, users in self.reactions.items()
            ]
        return out


@dataclass
class Ephemeral:
    """A message only `user` sees; Slack keeps no history of these."""

    channel: str
    user: str
    text: str
    ts: str
    thread_ts: str | None = None
    blocks: Any = None


@dataclass
class SlackChannel:
    id: str
    name: str
    is_archived: bool = False
    is_im: bool = False
    messages: dict[str, SlackMessage] = field(default_factory=dict)
    members: list[str] = field(default_factory=list)
    app_is_member: bool = True  # False: a channel the app was not invited to

    def to_api(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "is_channel": not self.is_im,
            "is_im": self.is_im,
            "is_private": False,
            "is_archived": self.is_archived,
            "is_member": self.app_is_member,
            "created": 1700000000,
        }


@dataclass
class User:
    id: str
    name: str
    real_name: str
    display_name: str
    is_bot: bool = False
    team_id: str | None = None  # a Slack Connect guest's own workspace; None: this one
    email: str | None = None  # shown as Slack does with the users:read.email scope

    def to_api(self, team_id: str) -> dict[str, Any]:
        return {
            "id": self.id,
            "team_id": self.team_id or team_id,
            "name": self.name,
            "real_name": self.real_name,
            "deleted": False,
            "is_bot": self.is_bot,
            "tz": "America/Los_Angeles",
            "profile": {
                "real_name": self.real_name,
                "real_name_normalized": self.real_name,
                "display_name": self.display_name,
                "display_name_normalized": self.display_name,
                **({"email": self.email} if self.email else {}),
            },
        }


@dataclass
class UploadedFile:
    id: str
    name: str
    length: int
    data: bytes | None = None
    title: str | None = None
    # Where it was shared: channel → [{"ts", "thread_ts"?}], as files.info lists it.
    shares: dict[str, list[dict[str, str]]] = field(default_factory=dict)

    def to_api(self, user: str) -> dict[str, Any]:
        mimetype = mimetypes.guess_type(self.name)[0] or "application/octet-stream"
        return {
            "id": self.id,
            "name": self.name,
            "title": self.title or self.name,
            "mimetype": mimetype,
            "size": len(self.data or b""),
            "user": user,
            "shares": {"public": self.shares} if self.shares else {},
        }


class SlackError(Exception):
    """A Slack API error: answered as HTTP 200 with `{"ok": false, "error": code}`."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class _Request:
    args: dict[str, Any]
    origin: str  # where the caller reached us; upload URLs must point back here


_Handler = Callable[[_Request], dict[str, Any]]


@dataclass(frozen=True)
class _Limit:
    calls: int
    window: float
    per_channel: bool


class _RateLimiter:
    """Sliding-window limits per method (and per channel where Slack counts per channel)."""

    def __init__(self) -> None:
        self._limits: dict[str, _Limit] = {}
        self._hits: dict[tuple[str, str], deque[float]] = {}

    def set(self, method: str, per_second: float, per_channel: bool) -> None:
        # Below one call a second (e.g. 1/60 for Tier-1-like methods) the window
        # widens instead, so one call is allowed per 1/per_second seconds.
        calls = max(1, math.floor(per_second))
        self._limits[method] = _Limit(calls, calls / per_second, per_channel)

    def retry_after(self, method: str, channel: str) -> int | None:
        """Seconds to wait if this call is over the limit, else None (and the call counts)."""
        limit = self._limits.get(method)
        if limit is None:
            return None
        key = (method, channel if limit.per_channel else "")
        hits = self._hits.setdefault(key, deque())
        now = time.monotonic()
        while hits and hits[0] <= now - limit.window:
            hits.popleft()
        if len(hits) >= limit.calls:
            # Retry-After is whole seconds; slack_sdk's handler does int() on it.
            return max(1, math.ceil(hits[0] + limit.window - now))
        hits.append(now)
        return None


class SlackEmulator:
    """An in-memory Slack workspace serving `POST|GET /api/{method}`."""

    def __init__(
        self,
        # Sandbox credentials, known to both sides on purpose.
        token: str = "xoxb-test",  # noqa: S107
        signing_secret: str = "sandbox-secret",  # noqa: S107
        app_token: str = "xapp-1-sandbox",  # noqa: S107
    ) -> None:
        self.token = token
        self.signing_secret = signing_secret
        self.app_token = app_token
        # Socket Mode: open connections, and acks awaited by envelope id.
        self._sockets: set[web.WebSocketResponse] = set()
        self._acks: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self.team_id = "T0SANDBOX"
        self.app_id = "A0SANDBOX"
        self.bot_id = "B0BRIDGE"
        self.bot_user_id = "U0BRIDGE"
        self.calls: list[RecordedCall] = []
        self.rate_limited = 0
        self.ephemerals: list[Ephemeral] = []
        self.home_views: dict[str, dict[str, Any]] = {}
        # Modals open now, by user (views.open), and what apps sent to response_urls.
        self.modals: dict[str, dict[str, Any]] = {}
        self.responses: list[dict[str, Any]] = []
        self._channels: dict[str, SlackChannel] = {}
        self._users: dict[str, User] = {}
        self._files: dict[str, UploadedFile] = {}
        self._triggers: dict[str, str] = {}
        self._clicked: dict[str, tuple[str, str]] = {}  # response_url token → message
        # User groups (S…) and their members, for usergroups.users.list.
        self.user_groups: dict[str, list[str]] = {}
        # People set "away" for users.getPresence; everyone else is active.
        self.away_users: set[str] = set()
        self._failures = FailureInjector()
        self._limiter = _RateLimiter()
        self._last_ts = 0
        # Where the app's own posts are echoed as `message` events (its Request URL).
        self.echo_url: str | None = None
        self.echo_retry_delays: tuple[float, ...] = SLACK_RETRY_DELAYS
        self.echoes_delivered = 0
        # The ts of the app's posts whose echo no delivery got through: Slack stored
        # them and never told the app (the one window a repost cannot be ruled out).
        self.echoes_lost: set[str] = set()
        self._echoes: set[asyncio.Task[None]] = set()
        self.add_user(self.bot_user_id, "sms-bridge", "SMS Bridge", "SMS Bridge", is_bot=True)
        self._methods: dict[str, _Handler] = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._post_message,
            "chat.update": self._update,
            "chat.delete": self._delete,
            "chat.postEphemeral": self._post_ephemeral,
            "reactions.add": self._reactions_add,
            "reactions.remove": self._reactions_remove,
            "users.info": self._users_info,
            "conversations.info": self._conversations_info,
            "views.publish": self._views_publish,
            "views.open": self._views_open,
            "views.update": self._views_update,
            "conversations.members": self._conversations_members,
            "conversations.history": self._history,
            "usergroups.users.list": self._usergroup_users,
            "users.getPresence": self._presence,
            "chat.getPermalink": self._permalink,
            "files.getUploadURLExternal": self._get_upload_url,
            "files.completeUploadExternal": self._complete_upload,
            "files.info": self._file_info,
        }
        self.app = web.Application(client_max_size=MAX_BODY_BYTES)
        self.app.router.add_route("*", "/api/{method}", self._api)
        self.app.router.add_post("/upload/v1/{file_id}", self._upload)
        self.app.router.add_get("/socket", self._socket)
        self.app.router.add_post("/respond/{token}", self._respond)
        self._server = LocalServer(self.app)

    # -- running on a socket ---------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve on a real socket; returns the base URL (the Web API is under `/api/`)."""
        return await self._server.start(host, port)

    @property
    def base_url(self) -> str | None:
        """Where `start()` serves, or None when not started."""
        return self._server.base_url

    async def stop(self) -> None:
        for task in list(self._echoes):
            task.cancel()
        await asyncio.gather(*self._echoes, return_exceptions=True)
        await self._server.stop()

    # -- workspace setup and inspection ----------------------------------------------

    def add_channel(self, channel_id: str, name: str) -> SlackChannel:
        channel = SlackChannel(channel_id, name)
        self._channels[channel_id] = channel
        return channel

    def archive_channel(self, channel: str) -> None:
        self._channel(channel).is_archived = True

    def add_user(
        self,
        user_id: str,
        name: str,
        real_name: str,
        display_name: str = "",
        *,
        is_bot: bool = False,
        team_id: str | None = None,
        email: str | None = None,
    ) -> User:
        """A person of this workspace, or with `team_id` a Slack Connect guest from another."""
        user = User(user_id, name, real_name, display_name, is_bot, team_id, email)
        self._users[user_id] = user
        return user

    def calls_to(self, method: str) -> list[RecordedCall]:
        return [call for call in self.calls if call.method == method]

    def messages(self, channel: str) -> list[SlackMessage]:
        """Top-level messages (thread parents included), oldest first."""
        found = self._channel(channel).messages.values()
        return sorted((m for m in found if not m.is_reply), key=_ts_key)

    def replies(self, channel: str, thread_ts: str) -> list[SlackMessage]:
        """A thread's replies (not its parent), oldest first."""
        found = self._channel(channel).messages.values()
        return sorted((m for m in found if m.is_reply and m.thread_ts == thread_ts), key=_ts_key)

    def message(self, channel: str, ts: str) -> SlackMessage | None:
        return self._channel(channel).messages.get(ts)

    def delete_message(self, channel: str, ts: str) -> None:
        """Delete as a user would in the Slack client (no API call is recorded)."""
        del self._channel(channel).messages[ts]

    def file(self, file_id: str) -> UploadedFile | None:
        return self._files.get(file_id)

    # -- rate limits and failures ----------------------------------------------------

    def rate_limit(self, method: str, per_second: float, *, per_channel: bool = False) -> None:
        """Answer 429 + Retry-After past `per_second` calls of `method` (off by default)."""
        self._limiter.set(method, per_second, per_channel)

    def fail(
        self,
        method: str = ANY,
        status: int = 500,
        times: int = 1,
        *,
        retry_after: int = 1,
        error: str | None = None,
        applied: bool = False,
    ) -> None:
        """Make the next `times` calls of `method` (`"*"`: any) fail with `status`; with
        `applied`, each call takes effect and only its answer is the failure."""
        failure = self._failure(status, retry_after, error)
        if applied:
            failure = Failure(failure.status, failure.retry_after, failure.error, applied=True)
        self._failures.add_times(method, failure, times)

    def fail_for(
        self,
        method: str = ANY,
        seconds: float = 1.0,
        status: int = 500,
        *,
        retry_after: int = 1,
        error: str | None = None,
    ) -> None:
        """Make every call of `method` fail with `status` for the next `seconds`."""
        self._failures.add_window(method, self._failure(status, retry_after, error), seconds)

    def clear_failures(self) -> None:
        self._failures.clear()

    @staticmethod
    def _failure(status: int, retry_after: int, error: str | None) -> Failure:
        if status == 429:
            return Failure(status, retry_after, error or "ratelimited")
        # A status of 200 with an error code emulates a plain API error (e.g. "fatal_error").
        return Failure(status, None, error or "internal_error")

    # -- what users do in the Slack client ---------------------------------------------

    def user_posts(
        self, channel: str, user: str, text: str, *, thread_ts: str | None = None
    ) -> dict[str, Any]:
        """Record a human's message (a thread reply when `thread_ts` is given), return its event."""
        target = self._channel(channel)
        parent = None
        if thread_ts is not None:
            parent = target.messages.get(thread_ts)
            if parent is None:
                raise ValueError(f"no message {thread_ts} in {channel} to reply to")
        message = self._store(target, SlackMessage(target.id, self._next_ts(), text, user), parent)
        event: dict[str, Any] = {
            "type": "message",
            "channel": target.id,
            "channel_type": "im" if target.is_im else "channel",
            "user": user,
            "text": text,
            "ts": message.ts,
            "event_ts": message.ts,
            "team": self._team_of(user),
            "client_msg_id": str(uuid.uuid4()),
        }
        if message.thread_ts is not None:
            root = target.messages[message.thread_ts]
            event |= {"thread_ts": root.ts, "parent_user_id": root.user}
        return event

    def user_edits(self, channel: str, ts: str, text: str) -> dict[str, Any]:
        """Record a human editing their message, return the `message_changed` event."""
        message = self.message(channel, ts)
        if message is None:
            raise ValueError(f"no message {ts} in {channel} to edit")
        previous = {"type": "message", "user": message.user, "text": message.text, "ts": ts}
        message.text = text
        message.edited = {"user": message.user, "ts": self._next_ts()}
        edited = {
            "type": "message",
            "user": message.user,
            "text": text,
            "ts": ts,
            "edited": message.edited,
        }
        if message.thread_ts is not None:
            edited["thread_ts"] = previous["thread_ts"] = message.thread_ts
        return {
            "type": "message",
            "subtype": "message_changed",
            "hidden": True,
            "channel": message.channel,
            "message": edited,
            "previous_message": previous,
            "ts": self._next_ts(),
            "event_ts": self._next_ts(),
        }

    def user_deletes(self, channel: str, ts: str) -> dict[str, Any]:
        """Record a human deleting their message, return the `message_deleted` event."""
        message = self.message(channel, ts)
        if message is None:
            raise ValueError(f"no message {ts} in {channel} to delete")
        self.delete_message(channel, ts)
        previous = {"type": "message", "user": message.user, "text": message.text, "ts": ts}
        if message.thread_ts is not None:
            previous["thread_ts"] = message.thread_ts
        return {
            "type": "message",
            "subtype": "message_deleted",
            "hidden": True,
            "channel": message.channel,
            "deleted_ts": ts,
            "previous_message": previous,
            "ts": self._next_ts(),
            "event_ts": self._next_ts(),
        }

    def user_reacts(self, channel: str, ts: str, user: str, name: str) -> dict[str, Any]:
        """Record a human's emoji reaction on a message, return its `reaction_added` event."""
        message = self.message(channel, ts)
        if message is None:
            raise ValueError(f"no message {ts} in {channel} to react to")
        message.reactions.setdefault(name, []).append(user)
        return {
            "type": "reaction_added",
            "user": user,
            "reaction": name,
            "item_user": message.user,
            "item": {"type": "message", "channel": message.channel, "ts": ts},
            "event_ts": self._next_ts(),
        }

    # -- delivering events, commands and interactions to the bridge --------------------

    def envelope(self, event: Mapping[str, Any]) -> dict[str, Any]:
        """Wrap an event as the Events API does; re-deliver the same envelope to retry it."""
        return {
            "token": "sandbox-verification-token",
            "team_id": self.team_id,
            "api_app_id": self.app_id,
            "event": dict(event),
            "type": "event_callback",
            "event_id": "Ev" + secrets.token_hex(5).upper(),
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": self.team_id,
                    "user_id": self.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
        }

    def sign(self, body: str, timestamp: str) -> str:
        """The `X-Slack-Signature` Slack would send for `body` at `timestamp`."""
        verifier = SignatureVerifier(self.signing_secret)
        signature = verifier.generate_signature(timestamp=timestamp, body=body)
        if signature is None:  # only when timestamp is None, which the type rules out
            raise ValueError("a timestamp is required")
        return signature

    async def deliver(
        self,
        url: str,
        payload: Mapping[str, Any],
        kind: Kind = "event",
        *,
        retry_num: int | None = None,
        retry_reason: str = "http_timeout",
        timestamp: int | None = None,
    ) -> WebhookResponse:
        """POST a signed request to the bridge as Slack does; times out after 3 seconds.

        `event`: an event (wrapped in an envelope) or a whole envelope, sent as JSON.
        `command`: slash-command form fields. `interactive`: a payload, sent as `payload=`.
        """
        if kind == "event":
            envelope = payload if payload.get("type") in _ENVELOPE_TYPES else self.envelope(payload)
            body, content_type = json.dumps(envelope), "application/json"
        elif kind == "command":
            body, content_type = urlencode(payload), "application/x-www-form-urlencoded"
        else:
            body = urlencode({"payload": json.dumps(payload)})
            content_type = "application/x-www-form-urlencoded"
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        headers = {
            "Content-Type": content_type,
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": self.sign(body, stamp),
        }
        if retry_num is not None:
            headers |= {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": retry_reason}
        timeout = aiohttp.ClientTimeout(total=ACK_TIMEOUT_SECONDS)
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.post(url, data=body.encode(), headers=headers) as response,
        ):
            return WebhookResponse(response.status, await response.text())

    # -- Socket Mode -----------------------------------------------------------------

    @property
    def socket_connections(self) -> int:
        return len(self._sockets)

    async def socket_deliver(
        self, payload: Mapping[str, Any], kind: Kind = "event"
    ) -> dict[str, Any]:
        """Push a request over the open Socket Mode connection; return the app's ack."""
        if not self._sockets:
            raise RuntimeError("no Socket Mode connection is open")
        envelope_type = {"event": "events_api", "command": "slash_commands"}.get(
            kind, "interactive"
        )
        body = dict(payload)
        if kind == "event" and body.get("type") not in _ENVELOPE_TYPES:
            body = self.envelope(body)
        envelope_id = str(uuid.uuid4())
        ack: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._acks[envelope_id] = ack
        message = {
            "envelope_id": envelope_id,
            "type": envelope_type,
            "payload": body,
            "accepts_response_payload": kind != "event",
            "retry_attempt": 0,
            "retry_reason": "",
        }
        await next(iter(self._sockets)).send_json(message)
        try:
            return await asyncio.wait_for(ack, ACK_TIMEOUT_SECONDS)
        finally:
            self._acks.pop(envelope_id, None)

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse(autoping=True)
        await socket.prepare(request)
        self._sockets.add(socket)
        await socket.send_json(
            {"type": "hello", "num_connections": 1, "connection_info": {"app_id": self.app_id}}
        )
        try:
            async for frame in socket:
                if frame.type != aiohttp.WSMsgType.TEXT:
                    continue
                ack = json.loads(frame.data)
                waiter = self._acks.get(str(ack.get("envelope_id")))
                if waiter is not None and not waiter.done():
                    waiter.set_result(ack)
        finally:
            self._sockets.discard(socket)
        return socket

    # -- HTTP plumbing ---------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        try:
            args = await _read_args(request)
        except ValueError:
            return self._answer(method, {}, {"ok": False, "error": "invalid_json"})
        token = _bearer(request) or args.pop("token", None)

        failure = self._failures.take(method)
        if failure is not None and failure.applied and method in self._methods:
            with contextlib.suppress(SlackError):
                self._methods[method](_Request(args, str(request.url.origin())))
        if failure is not None:
            headers = {}
            if failure.retry_after is not None:
                headers["Retry-After"] = str(failure.retry_after)
            body = {"ok": False, "error": failure.error}
            return self._answer(method, args, body, failure.status, headers)

        if method == "apps.connections.open":
            if token != self.app_token:
                return self._answer(method, args, {"ok": False, "error": "invalid_auth"})
            socket = f"{str(request.url.origin()).replace('http', 'ws', 1)}/socket"
            return self._answer(method, args, {"ok": True, "url": socket})
        handler = self._methods.get(method)
        if handler is None:
            return self._answer(method, args, {"ok": False, "error": "unknown_method"})
        if token is None:
            return self._answer(method, args, {"ok": False, "error": "not_authed"})
        if token != self.token:
            return self._answer(method, args, {"ok": False, "error": "invalid_auth"})

        wait = self._limiter.retry_after(method, str(args.get("channel", "")))
        if wait is not None:
            self.rate_limited += 1
            body = {"ok": False, "error": "ratelimited"}
            return self._answer(method, args, body, 429, {"Retry-After": str(wait)})

        try:
            body = handler(_Request(args, str(request.url.origin())))
        except SlackError as exc:
            body = {"ok": False, "error": exc.code}
        return self._answer(method, args, body)

    def _answer(
        self,
        method: str,
        args: dict[str, Any],
        body: dict[str, Any],
        status: int = 200,
        headers: dict[str, str] | None = None,
    ) -> web.Response:
        error = None if body.get("ok") else str(body.get("error"))
        self.calls.append(RecordedCall(method, args, time.time(), status, error))
        return web.json_response(body, status=status, headers=headers)

    async def _upload(self, request: web.Request) -> web.Response:
        """The pre-signed upload URL of files.getUploadURLExternal (no token, raw bytes)."""
        upload = self._files.get(request.match_info["file_id"])
        if upload is None:
            return web.Response(status=404, text="file not found")
        upload.data = await request.read()
        # slack_sdk only checks for a 200; the real service answers in plain text.
        return web.Response(text=f"OK - {len(upload.data)}")

    # -- state helpers ---------------------------------------------------------------

    def _next_ts(self) -> str:
        # Time-based like Slack's, but strictly increasing even within one microsecond.
        micros = max(time.time_ns() // 1000, self._last_ts + 1)
        self._last_ts = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _channel(self, ref: str) -> SlackChannel:
        """A channel by ID or name, or a user's DM when given a user ID (like chat.postMessage)."""
        if ref in self._channels:
            return self._channels[ref]
        name = ref.removeprefix("#")
        for channel in self._channels.values():
            if channel.name == name and not channel.is_im:
                return channel
        if ref in self._users:
            dm_id = "D" + ref[1:]
            if dm_id not in self._channels:  # one DM per person, kept across messages
                self._channels[dm_id] = SlackChannel(dm_id, ref, is_im=True)
            return self._channels[dm_id]
        raise SlackError("channel_not_found")

    def _writable(self, ref: Any) -> SlackChannel:
        channel = self._channel(str(ref or ""))
        if channel.is_archived:
            raise SlackError("is_archived")
        return channel

    def _existing(self, channel: SlackChannel, ts: Any) -> SlackMessage:
        message = channel.messages.get(str(ts or ""))
        if message is None:
            raise SlackError("message_not_found")
        return message

    def _thread_parent(self, channel: SlackChannel, thread_ts: Any) -> SlackMessage | None:
        if not thread_ts:
            return None
        parent = channel.messages.get(str(thread_ts))
        if parent is None:
            raise SlackError("thread_not_found")
        return parent

    def _store(
        self, channel: SlackChannel, message: SlackMessage, parent: SlackMessage | None
    ) -> SlackMessage:
        if parent is not None:
            # Replying to a reply lands in the same thread, under its root.
            root = channel.messages.get(parent.thread_ts or parent.ts, parent)
            root.thread_ts = root.ts
            root.reply_count += 1
            message.thread_ts = root.ts
        channel.messages[message.ts] = message
        return message

    def _bot_message(self, channel: SlackChannel, args: dict[str, Any], text: str) -> SlackMessage:
        return SlackMessage(
            channel=channel.id,
            ts=self._next_ts(),
            text=text,
            user=self.bot_user_id,
            bot_id=self.bot_id,
            blocks=_structured(args.get("blocks")),
            attachments=_structured(args.get("attachments")),
            metadata=_structured(args.get("metadata")),
            username=str(args["username"]) if args.get("username") else None,
            icon_emoji=str(args["icon_emoji"]) if args.get("icon_emoji") else None,
        )

    def _api_message(self, message: SlackMessage) -> dict[str, Any]:
        return message.to_api(self.team_id, self.app_id)

    # -- Web API methods -------------------------------------------------------------

    def _auth_test(self, _req: _Request) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://sandbox.slack.com/",
            "team": "Sandbox",
            "user": "sms-bridge",
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _post_message(self, req: _Request) -> dict[str, Any]:
        args = req.args
        channel = self._writable(args.get("channel"))
        if not (args.get("text") or args.get("blocks") or args.get("attachments")):
            raise SlackError("no_text")
        parent = self._thread_parent(channel, args.get("thread_ts"))
        message = self._bot_message(channel, args, str(args.get("text", "")))
        self._store(channel, message, parent)
        self._echo(channel, message)
        return {
            "ok": True,
            "channel": channel.id,
            "ts": message.ts,
            "message": self._api_message(message),
        }

    def _history(self, req: _Request) -> dict[str, Any]:
        """Top-level messages, newest first, a page at a time. Metadata is returned only
        with include_all_metadata, as Slack does."""
        args = req.args
        channel = self._channel(str(args.get("channel", "")))
        try:
            limit = min(int(args.get("limit") or HISTORY_PAGE_LIMIT), HISTORY_PAGE_LIMIT)
            oldest = float(args.get("oldest") or 0)
            latest = float(args.get("latest") or math.inf)
            start = int(args.get("cursor") or 0)
        except ValueError:
            raise SlackError("invalid_arguments") from None
        inclusive = str(args.get("inclusive", "")).lower() in {"1", "true"}

        def within(message: SlackMessage) -> bool:
            ts = float(message.ts)
            if inclusive:
                return oldest <= ts <= latest
            return oldest < ts < latest

        found = [m for m in self.messages(channel.id) if within(m)][::-1]
        page = found[start : start + limit]
        with_metadata = str(args.get("include_all_metadata", "")).lower() in {"1", "true"}
        listed = []
        for message in page:
            item = self._api_message(message)
            if not with_metadata:
                item.pop("metadata", None)
            listed.append(item)
        more = start + limit < len(found)
        return {
            "ok": True,
            "messages": listed,
            "has_more": more,
            "response_metadata": {"next_cursor": str(start + limit) if more else ""},
        }

    # -- the app's own posts, echoed back as events ------------------------------------

    def _echo(self, channel: SlackChannel, message: SlackMessage) -> None:
        """Slack sends a subscribed app the `message` event of its own posts too (with
        their metadata), retrying a delivery the app does not acknowledge."""
        if self.echo_url is None:
            return
        event: dict[str, Any] = {
            **self._api_message(message),
            "channel": channel.id,
            "channel_type": "im" if channel.is_im else "channel",
            "event_ts": message.ts,
            "bot_profile": {"id": self.bot_id, "app_id": self.app_id, "name": "SMS Bridge"},
        }
        if message.is_reply:
            event["parent_user_id"] = self.bot_user_id
        task = asyncio.get_running_loop().create_task(self._deliver_echo(self.envelope(event)))
        self._echoes.add(task)
        task.add_done_callback(self._echoes.discard)

    async def _deliver_echo(self, envelope: dict[str, Any]) -> None:
        if await self.deliver_retried(envelope):
            self.echoes_delivered += 1
        elif self.echo_url is not None:
            self.echoes_lost.add(str(envelope["event"]["ts"]))

    async def deliver_retried(self, envelope: dict[str, Any]) -> bool:
        """Deliver an event to the Request URL (`echo_url`) as Slack does: retried on
        `echo_retry_delays` until the app answers 2xx. False: Slack gave up on it."""
        for attempt, delay in enumerate((0.0, *self.echo_retry_delays)):
            await asyncio.sleep(delay)
            if self.echo_url is None:
                return False
            try:
                answer = await self.deliver(self.echo_url, envelope, retry_num=attempt or None)
            except (aiohttp.ClientError, TimeoutError):
                continue
            if 200 <= answer.status < 300:
                return True
        return False

    def _update(self, req: _Request) -> dict[str, Any]:
        args = req.args
        channel = self._writable(args.get("channel"))
        message = self._existing(channel, args.get("ts"))
        if message.user != self.bot_user_id:
            raise SlackError("cant_update_message")
        # Fields not sent are kept, as Slack does (sending blocks=[] clears them).
        if "text" in args:
            message.text = str(args["text"])
        for name in ("blocks", "attachments", "metadata"):
            if name in args:
                setattr(message, name, _structured(args[name]))
        message.edited = {"user": self.bot_user_id, "ts": self._next_ts()}
        return {
            "ok": True,
            "channel": channel.id,
            "ts": message.ts,
            "text": message.text,
            "message": self._api_message(message),
        }

    def _delete(self, req: _Request) -> dict[str, Any]:
        channel = self._writable(req.args.get("channel"))
        message = self._existing(channel, req.args.get("ts"))
        if message.user != self.bot_user_id:
            raise SlackError("cant_delete_message")
        del channel.messages[message.ts]
        return {"ok": True, "channel": channel.id, "ts": message.ts}

    def _post_ephemeral(self, req: _Request) -> dict[str, Any]:
        args = req.args
        channel = self._writable(args.get("channel"))
        if str(args.get("user", "")) not in self._users:
            raise SlackError("user_not_found")
        ephemeral = Ephemeral(
            channel=channel.id,
            user=str(args["user"]),
            text=str(args.get("text", "")),
            ts=self._next_ts(),
            thread_ts=args.get("thread_ts") or None,
            blocks=_structured(args.get("blocks")),
        )
        self.ephemerals.append(ephemeral)
        return {"ok": True, "message_ts": ephemeral.ts}

    def _reacted(self, req: _Request) -> tuple[SlackMessage, str]:
        channel = self._writable(req.args.get("channel"))
        message = self._existing(channel, req.args.get("timestamp"))
        return message, str(req.args.get("name", "")).strip(":")

    def _reactions_add(self, req: _Request) -> dict[str, Any]:
        message, name = self._reacted(req)
        users = message.reactions.setdefault(name, [])
        if self.bot_user_id in users:
            raise SlackError("already_reacted")
        users.append(self.bot_user_id)
        return {"ok": True}

    def _reactions_remove(self, req: _Request) -> dict[str, Any]:
        message, name = self._reacted(req)
        users = message.reactions.get(name, [])
        if self.bot_user_id not in users:
            raise SlackError("no_reaction")
        users.remove(self.bot_user_id)
        if not users:
            del message.reactions[name]
        return {"ok": True}

    def _users_info(self, req: _Request) -> dict[str, Any]:
        user = self._users.get(str(req.args.get("user", "")))
        if user is None:
            raise SlackError("user_not_found")
        return {"ok": True, "user": user.to_api(self.team_id)}

    def _conversations_members(self, req: _Request) -> dict[str, Any]:
        channel = self._channel(str(req.args.get("channel", "")))
        return {"ok": True, "members": list(channel.members), "response_metadata": {}}

    def _permalink(self, req: _Request) -> dict[str, Any]:
        channel = self._channel(str(req.args.get("channel", "")))
        ts = str(req.args.get("message_ts", ""))
        if ts not in channel.messages:
            raise SlackError("message_not_found")
        link = f"https://sandbox.slack.example/archives/{channel.id}/p{ts.replace('.', '')}"
        return {"ok": True, "channel": channel.id, "permalink": link}

    def _usergroup_users(self, req: _Request) -> dict[str, Any]:
        group = self.user_groups.get(str(req.args.get("usergroup", "")))
        if group is None:
            raise SlackError("no_such_subteam")
        return {"ok": True, "users": list(group)}

    def _presence(self, req: _Request) -> dict[str, Any]:
        user = str(req.args.get("user", ""))
        if user not in self._users:
            raise SlackError("user_not_found")
        return {"ok": True, "presence": "away" if user in self.away_users else "active"}

    def join(self, channel: str, *users: str) -> None:
        """Make people members of a channel (what conversations.members lists)."""
        target = self._channel(channel)
        target.members.extend(u for u in users if u not in target.members)

    def _conversations_info(self, req: _Request) -> dict[str, Any]:
        channel = self._channel(str(req.args.get("channel", "")))
        return {"ok": True, "channel": channel.to_api()}

    def _views_publish(self, req: _Request) -> dict[str, Any]:
        user_id = str(req.args.get("user_id", ""))
        view = _structured(req.args.get("view"))
        if user_id not in self._users:
            raise SlackError("user_not_found")
        if not isinstance(view, dict):
            raise SlackError("invalid_arguments")
        current = self.home_views.get(user_id)
        # `hash` guards against overwriting a newer view (Slack's optimistic locking).
        expected = req.args.get("hash")
        if expected and current is not None and current["hash"] != expected:
            raise SlackError("hash_conflict")
        published = {
            **view,
            "id": current["id"] if current else "V" + secrets.token_hex(5).upper(),
            "team_id": self.team_id,
            "app_id": self.app_id,
            "bot_id": self.bot_id,
            "hash": f"{int(time.time())}.{secrets.token_hex(4)}",
        }
        self.home_views[user_id] = published
        return {"ok": True, "view": published}

    def _views_open(self, req: _Request) -> dict[str, Any]:
        view = _structured(req.args.get("view"))
        trigger = str(req.args.get("trigger_id", ""))
        user = self._triggers.pop(trigger, None)
        if user is None:
            raise SlackError("invalid_trigger_id")  # unknown, used or expired
        if not isinstance(view, dict):
            raise SlackError("invalid_arguments")
        opened = {**view, "id": "V" + secrets.token_hex(5).upper(), "app_id": self.app_id}
        self.modals[user] = opened
        return {"ok": True, "view": opened}

    def _views_update(self, req: _Request) -> dict[str, Any]:
        view = _structured(req.args.get("view"))
        view_id = str(req.args.get("view_id", ""))
        user = next((u for u, v in self.modals.items() if v["id"] == view_id), None)
        if user is None:
            raise SlackError("not_found")
        if not isinstance(view, dict):
            raise SlackError("invalid_arguments")
        self.modals[user] = {**view, "id": view_id, "app_id": self.app_id}
        return {"ok": True, "view": self.modals[user]}

    def message_shortcut(
        self, user: str, channel: str, ts: str, callback_id: str
    ) -> dict[str, Any]:
        """The payload of a person choosing a message shortcut on a message."""
        message = self.message(channel, ts)
        if message is None:
            raise ValueError(f"no message {ts} in {channel}")
        return {
            "type": "message_action",
            "callback_id": callback_id,
            "team": {"id": self.team_id},
            "user": {"id": user},
            "channel": {"id": self._channel(channel).id},
            "trigger_id": self.trigger(user),
            "response_url": self.response_url(),
            "message_ts": ts,
            "message": {
                "type": "message",
                "ts": ts,
                "text": message.text,
                "user": message.user,
                **({"thread_ts": message.thread_ts} if message.thread_ts else {}),
            },
        }

    def modal_action(
        self, user: str, action: dict[str, Any], values: dict[str, dict[str, Any]] | None = None
    ) -> dict[str, Any]:
        """The payload of a person using an element in their open modal; `values`: its
        fields' state as Slack sends it along (block_id → action_id → element state)."""
        view = self.modals[user]
        if values is not None:
            view = {**view, "state": {"values": values}}
        return {
            "type": "block_actions",
            "team": {"id": self.team_id},
            "user": {"id": user},
            "api_app_id": self.app_id,
            "trigger_id": self.trigger(user),
            "container": {"type": "view", "view_id": view["id"]},
            "view": view,
            "actions": [action],
        }

    def trigger(self, user: str) -> str:
        """A fresh trigger_id, as Slack puts in an interaction, good for one views.open."""
        trigger_id = f"{int(time.time())}.{secrets.token_hex(6)}"
        self._triggers[trigger_id] = user
        return trigger_id

    def response_url(self, clicked: tuple[str, str] | None = None) -> str:
        """A response_url for an interaction or slash command, answered by this emulator;
        `clicked` (channel, ts): the message it may replace or delete."""
        token = secrets.token_hex(8)
        if clicked is not None:
            self._clicked[token] = clicked
        return f"{self.base_url}/respond/{token}"

    async def _respond(self, request: web.Request) -> web.Response:
        body = await request.json(loads=_loads)
        self.responses.append(body if isinstance(body, dict) else {"raw": body})
        clicked = self._clicked.get(request.match_info["token"])
        if isinstance(body, dict) and clicked is not None:
            self._apply_response(body, *clicked)
        return web.Response(text="ok")

    def _apply_response(self, body: dict[str, Any], channel: str, ts: str) -> None:
        """What Slack does with `replace_original` / `delete_original`, to the message
        clicked (an ephemeral one included)."""
        ephemeral = next((e for e in self.ephemerals if e.ts == ts), None)
        if body.get("delete_original"):
            if ephemeral is not None:
                self.ephemerals.remove(ephemeral)
            else:
                self._channel(channel).messages.pop(ts, None)
        elif body.get("replace_original"):
            target = ephemeral or self.message(channel, ts)
            if target is not None:
                target.text = str(body.get("text", ""))
                target.blocks = body.get("blocks")

    def slash_command(self, user: str, text: str, *, channel: str) -> dict[str, str]:
        """The form fields Slack posts when `user` types `/sms <text>` in `channel`."""
        return {
            "command": "/sms",
            "text": text,
            "user_id": user,
            "user_name": user.lower(),
            "channel_id": channel,
            "team_id": self.team_id,
            "response_url": self.response_url(),
            "trigger_id": self.trigger(user),
            "api_app_id": self.app_id,
        }

    def block_action(
        self, user: str, action_id: str, value: str, *, channel: str, message_ts: str | None = None
    ) -> dict[str, Any]:
        """The interactivity payload of a person clicking a Block Kit button on the message
        (or on the ephemeral message shown to them) at `message_ts`."""
        container: dict[str, Any] = {
            "type": "message",
            "channel_id": channel,
            "message_ts": message_ts,
        }
        payload: dict[str, Any] = {
            "type": "block_actions",
            "team": {"id": self.team_id},
            "user": {"id": user, "team_id": self._team_of(user)},
            "api_app_id": self.app_id,
            "trigger_id": self.trigger(user),
            "response_url": self.response_url((channel, message_ts) if message_ts else None),
            "channel": {"id": self._channel(channel).id},
            "container": container,
            "actions": [
                {"type": "button", "action_id": action_id, "value": value, "block_id": "b"}
            ],
        }
        message = self.message(channel, message_ts) if message_ts else None
        ephemeral = next((e for e in self.ephemerals if e.ts == message_ts), None)
        if message is not None:
            payload["message"] = self._api_message(message)
            if message.thread_ts is not None:
                container["thread_ts"] = message.thread_ts
        elif ephemeral is not None:
            container["is_ephemeral"] = True
            if ephemeral.thread_ts is not None:
                container["thread_ts"] = ephemeral.thread_ts
        return payload

    def _team_of(self, user: str) -> str:
        known = self._users.get(user)
        return (known.team_id if known else None) or self.team_id

    def view_submission(self, user: str, values: dict[str, dict[str, Any]]) -> dict[str, Any]:
        """The payload of `user` submitting their open modal; `values` maps
        block_id → action_id → typed text, or → an element's state as Slack sends it
        (e.g. {"selected_user": "U1"})."""
        view = self.modals.pop(user)
        state = {
            block: {
                action: value
                if isinstance(value, dict)
                else {"type": "plain_text_input", "value": value}
                for action, value in fields.items()
            }
            for block, fields in values.items()
        }
        return {
            "type": "view_submission",
            "team": {"id": self.team_id},
            "user": {"id": user},
            "api_app_id": self.app_id,
            "trigger_id": self.trigger(user),
            "view": {**view, "state": {"values": state}},
        }

    def _get_upload_url(self, req: _Request) -> dict[str, Any]:
        filename = str(req.args.get("filename", ""))
        length = str(req.args.get("length", ""))
        if not filename or not length.isdigit():
            raise SlackError("invalid_arguments")
        upload = UploadedFile("F" + secrets.token_hex(5).upper(), filename, int(length))
        self._files[upload.id] = upload
        return {
            "ok": True,
            "file_id": upload.id,
            "upload_url": f"{req.origin}/upload/v1/{upload.id}",
        }

    def _file_info(self, req: _Request) -> dict[str, Any]:
        upload = self._files.get(str(req.args.get("file", "")))
        if upload is None or upload.data is None:
            raise SlackError("file_not_found")
        return {"ok": True, "file": upload.to_api(self.bot_user_id)}

    def _complete_upload(self, req: _Request) -> dict[str, Any]:
        args = req.args
        entries = _structured(args.get("files"))
        if not isinstance(entries, list) or not entries:
            raise SlackError("invalid_arguments")
        uploads = []
        for entry in entries:
            upload = self._files.get(str(entry.get("id", "")))
            if upload is None or upload.data is None:
                raise SlackError("file_not_found")
            upload.title = entry.get("title") or upload.title
            uploads.append(upload)
        shared = [upload.to_api(self.bot_user_id) for upload in uploads]
        if args.get("channel_id"):
            channel = self._writable(args["channel_id"])
            parent = self._thread_parent(channel, args.get("thread_ts"))
            message = self._bot_message(channel, {}, str(args.get("initial_comment", "")))
            message.files = shared
            self._store(channel, message, parent)
            for upload in uploads:
                share = {"ts": message.ts}
                if message.thread_ts is not None:
                    share["thread_ts"] = message.thread_ts
                upload.shares.setdefault(channel.id, []).append(share)
        return {"ok": True, "files": shared}


async def _read_args(request: web.Request) -> dict[str, Any]:
    """Query parameters merged with a JSON or form body (body wins), as Slack reads them."""
    args: dict[str, Any] = dict(request.query)
    if request.content_type == "application/json":
        body = await request.json(loads=_loads)
        if not isinstance(body, dict):
            raise ValueError("a JSON body must be an object")
        args |= body
    elif request.body_exists:
        form = await request.post()
        args |= {key: value for key, value in form.items() if isinstance(value, str)}
    return args


def _loads(raw: str) -> Any:
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ValueError(str(exc)) from exc


def _bearer(request: web.Request) -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token if scheme.lower() == "bearer" and token else None


def _structured(value: Any) -> Any:
    """Form-encoded calls carry blocks, views and file lists as JSON strings."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _ts_key(message: SlackMessage) -> tuple[int, int]:
    seconds, _, micros = message.ts.partition(".")
    return int(seconds), int(micros or 0)
