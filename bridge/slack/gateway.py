"""The bridge's calls to the Slack Web API: paced per method and channel, with
Slack's answers translated into what the outbox understands (retry, give up,
thread gone)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bridge.delivery.errors import GiveUp, RetryLater
from bridge.delivery.pacing import Pacer, Pacing, Rate
from bridge.metrics import Metrics

# The thread (or the channel holding it) is gone: the conversation needs a new parent.
_GONE = frozenset({"thread_not_found", "message_not_found", "is_archived", "channel_not_found"})
# Fixable only by an operator; retried so that nothing is lost once they fix it.
_OPERATOR = {
    "invalid_auth": "SLACK_BOT_TOKEN is not valid",
    "token_revoked": "SLACK_BOT_TOKEN was revoked",
    "account_inactive": "SLACK_BOT_TOKEN belongs to a deactivated app",
    "missing_scope": "the Slack app lacks a scope; reinstall it from manifest.yml",
}


# About the channel of the call: the hint names it (and the setting, for the inbox).
_CHANNEL = {
    "not_in_channel": "invite the app to {where}",
    "channel_not_found": "the app cannot see {where}",
    "is_archived": "{where} is archived",
}
# A DM to someone Slack does not know: nobody can fix that by retrying.
_NO_PERSON = frozenset({"channel_not_found", "user_not_found", "user_disabled"})

# Reads for display run inside Slack's 3-second acknowledgement window.
LOOKUP_PATIENCE = 1.0
# The longest one 429 holds its method in its channel, whatever its Retry-After says
# (90 s would stall the inbox channel); a 429 again holds again.
MAX_RETRY_AFTER = 10.0


@dataclass(frozen=True)
class Identity:
    bot_id: str
    team_id: str  # the workspace the app is installed in
    url: str  # the workspace's address, for links


class ThreadGone(Exception):
    """Slack no longer has the thread this call targeted."""


class Unconfirmed(RetryLater):
    """The call may have taken effect: Slack's answer was lost or was a server error.
    A post that ends so is found out before it is made again (`bridge.slack.posts`)."""


# A connection that was never made cannot have carried the call; any other failure
# after the request left may have.
_NOT_SENT = (aiohttp.ClientConnectorError,)


# The longest a job waits in a worker for its turn; a longer queue retries it then.
MAX_PACING_WAIT_SECONDS = 2.0


def slack_rate_for(
    post_rate: float, post_burst: int, history_per_minute: float
) -> Callable[[str], Rate]:
    """Rates per Slack's published tiers: chat.postMessage about 1/s per channel,
    Tier 3 (50/min) and Tier 4 (100/min) methods per workspace; history reads at the
    app's own rate (one a minute for apps distributed outside Slack's Marketplace)."""

    def rate_for(key: str) -> Rate:
        method = key.split(":", 1)[0]
        if method == "chat.postMessage":
            return Rate(post_rate, post_burst)
        if method == "conversations.history":
            return Rate(history_per_minute / 60, 1)
        if method in {"chat.update", "reactions.add", "reactions.remove"}:
            return Rate(50 / 60, 5)
        return Rate(100 / 60, 10)

    return rate_for


def slack_rates(
    post_rate: float,
    post_burst: int,
    clock: Callable[[], float] = time.monotonic,
    *,
    history_per_minute: float = 1.0,
) -> Pacer:
    """Slack's rates, paced in this process's memory."""
    return Pacer(slack_rate_for(post_rate, post_burst, history_per_minute), clock)


class SlackGateway:
    def __init__(
        self,
        client: AsyncWebClient,
        pacer: Pacing,
        metrics: Metrics,
        *,
        inbox_channel: str | None = None,
    ) -> None:
        self._inbox = inbox_channel
        self._client = client
        self._pacer = pacer
        self._metrics = metrics
        self._identity: Identity | None = None

    async def post_message(
        self,
        channel: str,
        text: str,
        *,
        thread_ts: str | None = None,
        blocks: list[dict[str, Any]] | None = None,
        broadcast: bool = False,
        metadata: dict[str, Any] | None = None,
        as_person: tuple[str, str] | None = None,
    ) -> str:
        """Post and return the new message's ts. In a thread, a vanished thread
        raises `ThreadGone`; at the channel root every error is the operator's. A lost
        answer raises `Unconfirmed`."""
        args: dict[str, Any] = {
            "channel": channel,
            "text": text,
            "unfurl_links": False,  # never make Slack fetch a URL a stranger texted
            "unfurl_media": False,
        }
        if thread_ts is not None:
            args["thread_ts"] = thread_ts
            if broadcast:
                args["reply_broadcast"] = True
        if blocks is not None:
            args["blocks"] = blocks
        if metadata is not None:
            args["metadata"] = metadata
        if as_person is not None:  # (name, emoji icon): shown as the poster (chat:write.customize)
            args["username"], args["icon_emoji"] = as_person
        data = await self._call("chat.postMessage", channel, args, thread=thread_ts is not None)
        return str(data["ts"])

    async def history(
        self, channel: str, *, oldest: str, cursor: str = ""
    ) -> tuple[list[dict[str, Any]], str]:
        """One page of the channel's top-level messages since `oldest`, newest first,
        with their metadata; and the cursor of the next page ("" at the end)."""
        args = {"channel": channel, "oldest": oldest, "include_all_metadata": True, "limit": 15}
        if cursor:
            args["cursor"] = cursor
        data = await self._call("conversations.history", "", args, thread=False)
        messages = [m for m in data.get("messages") or [] if isinstance(m, dict)]
        following = str((data.get("response_metadata") or {}).get("next_cursor") or "")
        return messages, following if data.get("has_more") else ""

    def wait_for(self, method: str, channel: str = "") -> float:
        """Seconds until `method` may be called (in `channel`) within Slack's pace."""
        return self._pacer.delay(f"{method}:{channel}")

    def post_waits(self, channel: str) -> bool:
        """Whether a post into `channel` would wait for its turn now (paced, or held by
        Slack's 429)."""
        key = f"chat.postMessage:{channel}"
        return self._pacer.delay(key) > 0 or self._pacer.held_for(key) > 0

    async def identity(self) -> Identity | None:
        """Who the app is in Slack (auth.test, once): None while Slack cannot say."""
        if self._identity is None:
            data = await self.lookup("auth.test")
            if data and data.get("ok") is not False:
                self._identity = Identity(
                    bot_id=str(data.get("bot_id") or ""),
                    team_id=str(data.get("team_id") or ""),
                    url=str(data.get("url") or "https://slack.com/"),
                )
        return self._identity

    async def bot_id(self) -> str | None:
        """The app's bot id: how its own messages are told apart."""
        identity = await self.identity()
        return identity.bot_id if identity else None

    async def update_message(
        self, channel: str, ts: str, text: str, blocks: list[dict[str, Any]]
    ) -> None:
        args = {"channel": channel, "ts": ts, "text": text, "blocks": blocks}
        await self._call("chat.update", "", args, thread=True)

    async def post_ephemeral(
        self,
        channel: str,
        user: str,
        text: str,
        thread_ts: str | None,
        *,
        blocks: list[dict[str, Any]] | None = None,
    ) -> None:
        args: dict[str, Any] = {"channel": channel, "user": user, "text": text}
        if thread_ts is not None:
            args["thread_ts"] = thread_ts
        if blocks is not None:
            args["blocks"] = blocks
        await self._call("chat.postEphemeral", "", args, thread=False)

    async def add_reaction(self, channel: str, ts: str, name: str) -> None:
        try:
            await self._call(
                "reactions.add",
                "",
                {"channel": channel, "timestamp": ts, "name": name},
                thread=True,
            )
        except GiveUp as exc:
            if "already_reacted" not in str(exc):
                raise

    async def reserve_upload(self, filename: str, length: int) -> tuple[str, str]:
        """A file to upload (nothing shows until it is shared): its id and upload URL."""
        args = {"filename": filename, "length": str(length)}
        data = await self._call("files.getUploadURLExternal", "", args, thread=False, form=True)
        return str(data["file_id"]), str(data["upload_url"])

    async def send_upload(self, url: str, content: bytes) -> None:
        """The file's bytes, to the URL `reserve_upload` gave (Slack's file server)."""
        await self._pacer.acquire("files.upload:")
        self._metrics.slack_calls.labels("files.upload").inc()
        try:
            async with self._client.session.post(  # type: ignore[union-attr]
                url, data=content, timeout=aiohttp.ClientTimeout(total=60)
            ) as response:
                if response.status != 200:
                    raise RetryLater(f"files.upload: Slack answered {response.status}")
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise RetryLater(f"files.upload: {type(exc).__name__}") from None

    async def share_upload(self, file_id: str, channel: str, thread_ts: str, title: str) -> None:
        """Show an uploaded file in a thread; a lost answer raises `Unconfirmed`."""
        args = {
            "files": json.dumps([{"id": file_id, "title": title}]),
            "channel_id": channel,
            "thread_ts": thread_ts,
        }
        await self._call("files.completeUploadExternal", channel, args, thread=True, form=True)

    async def shared_at(self, file_id: str, channel: str, thread_ts: str) -> str | None:
        """Where a file was shared in this thread (files.info), if it was."""
        data = await self._call("files.info", "", {"file": file_id}, thread=False, form=True)
        shares = (data.get("file") or {}).get("shares") or {}
        for scope in ("public", "private"):
            for share in (shares.get(scope) or {}).get(channel) or []:
                if isinstance(share, dict) and share.get("thread_ts") == thread_ts:
                    return str(share.get("ts"))
        return None

    async def publish_home(self, user: str, view: dict[str, Any]) -> None:
        await self._call("views.publish", "", {"user_id": user, "view": view}, thread=False)

    async def permalink(self, channel: str, ts: str) -> str | None:
        data = await self.lookup("chat.getPermalink", channel=channel, message_ts=ts)
        return str(data["permalink"]) if data and data.get("permalink") else None

    async def lookup(self, method: str, **args: str) -> dict[str, Any] | None:
        """A quick read (users.info, conversations.info): None when Slack cannot answer
        now (the caller shows something plainer); `{"ok": False, …}` when Slack said no
        (e.g. no such user)."""
        if self._pacer.delay(f"{method}:") > LOOKUP_PATIENCE:
            return None  # paced or told to wait: a plainer answer now beats a late one
        try:
            return await self._call(method, "", args, thread=False)
        except RetryLater:
            return None
        except GiveUp as exc:
            return {"ok": False, "error": str(exc)}

    async def _call(
        self, method: str, channel: str, args: dict[str, Any], *, thread: bool, form: bool = False
    ) -> dict[str, Any]:
        """`form`: methods that take form fields rather than a JSON body (files.*)."""
        # Paced per `channel` ("" for the methods Slack limits per workspace); a 429
        # holds its method in the channel it came from only.
        hold = f"{method}:{args.get('channel', '')}"
        await self._turn(method, f"{method}:{channel}", hold)
        self._metrics.slack_calls.labels(method).inc()
        try:
            if form:
                response = await self._client.api_call(method, data=args)
            else:
                response = await self._client.api_call(method, json=args)
        except SlackApiError as exc:
            raise self._translate(
                method, hold, exc, thread=thread, channel=str(args.get("channel") or "")
            ) from None
        except _NOT_SENT as exc:
            raise RetryLater(f"{method}: {type(exc).__name__}") from None
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise Unconfirmed(f"{method}: {type(exc).__name__}") from None
        data: dict[str, Any] = response.data  # type: ignore[assignment]
        return data

    async def _turn(self, method: str, key: str, hold: str) -> None:
        """Wait for a pacing token, briefly. Held by a 429, or with a queue longer than
        that, the job goes back to the outbox instead: a worker waiting here is one the
        other channels lack."""
        if (wait := self._pacer.held_for(hold)) > 0:
            raise RetryLater(f"{method}: rate limited", after=wait, throttled=True)
        await self._pacer.take(key, within=MAX_PACING_WAIT_SECONDS)

    def _translate(
        self, method: str, hold: str, exc: SlackApiError, *, thread: bool, channel: str = ""
    ) -> Exception:
        status = exc.response.status_code
        error = str(exc.response.get("error", "")) if isinstance(exc.response.data, dict) else ""
        if status == 429 or error == "ratelimited":
            after = min(float(exc.response.headers.get("Retry-After", "1") or 1), MAX_RETRY_AFTER)
            self._pacer.hold(hold, after)
            self._metrics.slack_ratelimited.labels(method).inc()
            return RetryLater(f"{method}: rate limited", after=after, throttled=True)
        if status >= 500:
            return Unconfirmed(f"{method}: Slack answered {status}")
        if thread and error in _GONE:
            return ThreadGone(error)
        if error in _OPERATOR:
            return RetryLater(f"{method}: {error}: {_OPERATOR[error]}")
        if channel[:1] in {"U", "W"} and error in _NO_PERSON:
            return GiveUp(f"{method}: {error}: Slack has no person {channel} to write to")
        if error in _CHANNEL:
            where = (
                f"the inbox channel {channel} (SLACK_INBOX_CHANNEL)"
                if channel and channel == self._inbox
                else f"channel {channel or '(unnamed)'}"
            )
            return RetryLater(f"{method}: {error}: {_CHANNEL[error].format(where=where)}")
        return GiveUp(f"{method}: {error or status}")
