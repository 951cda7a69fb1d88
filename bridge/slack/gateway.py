"""The bridge's calls to the Slack Web API: paced per method and channel, with
Slack's answers translated into what the outbox understands (retry, give up,
thread gone)."""

from __future__ import annotations

from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bridge.delivery.errors import GiveUp, RetryLater
from bridge.delivery.pacing import Pacer, Rate
from bridge.metrics import Metrics

# The thread (or the channel holding it) is gone: the conversation needs a new parent.
_GONE = frozenset({"thread_not_found", "message_not_found", "is_archived", "channel_not_found"})
# Fixable only by an operator; retried so that nothing is lost once they fix it.
_OPERATOR = {
    "not_in_channel": "invite the app to the channel set in SLACK_INBOX_CHANNEL",
    "channel_not_found": "SLACK_INBOX_CHANNEL names no channel the app can see",
    "is_archived": "the channel in SLACK_INBOX_CHANNEL is archived",
    "invalid_auth": "SLACK_BOT_TOKEN is not valid",
    "token_revoked": "SLACK_BOT_TOKEN was revoked",
    "account_inactive": "SLACK_BOT_TOKEN belongs to a deactivated app",
    "missing_scope": "the Slack app lacks a scope; reinstall it from manifest.yml",
}


# Reads for display run inside Slack's 3-second acknowledgement window.
LOOKUP_PATIENCE = 1.0
# The longest one 429 holds its method in its channel, whatever its Retry-After says
# (90 s would stall the inbox channel); a 429 again holds again.
MAX_RETRY_AFTER = 10.0


class ThreadGone(Exception):
    """Slack no longer has the thread this call targeted."""


def slack_rates(post_rate: float, post_burst: int) -> Pacer:
    """Rates per Slack's published tiers: chat.postMessage about 1/s per channel,
    Tier 3 (50/min) and Tier 4 (100/min) methods per workspace."""

    def rate_for(key: str) -> Rate:
        method = key.split(":", 1)[0]
        if method == "chat.postMessage":
            return Rate(post_rate, post_burst)
        if method in {"chat.update", "reactions.add", "reactions.remove"}:
            return Rate(50 / 60, 5)
        return Rate(100 / 60, 10)

    return Pacer(rate_for)


class SlackGateway:
    def __init__(self, client: AsyncWebClient, pacer: Pacer, metrics: Metrics) -> None:
        self._client = client
        self._pacer = pacer
        self._metrics = metrics

    async def post_message(
        self,
        channel: str,
        text: str,
        *,
        thread_ts: str | None = None,
        blocks: list[dict[str, Any]] | None = None,
        broadcast: bool = False,
    ) -> str:
        """Post and return the new message's ts. In a thread, a vanished thread
        raises `ThreadGone`; at the channel root every error is the operator's."""
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
        data = await self._call("chat.postMessage", channel, args, thread=thread_ts is not None)
        return str(data["ts"])

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

    async def upload_file(
        self, channel: str, thread_ts: str, *, filename: str, content: bytes
    ) -> None:
        """files.getUploadURLExternal + upload + files.completeUploadExternal."""
        hold = f"files.upload:{channel}"
        await self._turn("files.upload", "files.upload", hold)
        self._metrics.slack_calls.labels("files.upload").inc()
        try:
            await self._client.files_upload_v2(
                channel=channel, thread_ts=thread_ts, filename=filename, content=content
            )
        except SlackApiError as exc:
            raise self._translate("files.upload", hold, exc, thread=True) from None
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise RetryLater(f"files.upload: {type(exc).__name__}") from None

    async def publish_home(self, user: str, view: dict[str, Any]) -> None:
        await self._call("views.publish", "", {"user_id": user, "view": view}, thread=False)

    async def permalink(self, channel: str, ts: str) -> str | None:
        data = await self.lookup("chat.getPermalink", channel=channel, message_ts=ts)
        return str(data["permalink"]) if data and data.get("permalink") else None

    async def lookup(self, method: str, **args: str) -> dict[str, Any] | None:
        """A read (users.info, conversations.info) for display only: None when Slack
        cannot answer now, and the caller shows something plainer."""
        if self._pacer.bucket(f"{method}:").delay() > LOOKUP_PATIENCE:
            return None  # paced or told to wait: a plainer answer now beats a late one
        try:
            return await self._call(method, "", args, thread=False)
        except (RetryLater, GiveUp):
            return None

    async def _call(
        self, method: str, channel: str, args: dict[str, Any], *, thread: bool
    ) -> dict[str, Any]:
        # Paced per `channel` ("" for the methods Slack limits per workspace); a 429
        # holds its method in the channel it came from only.
        hold = f"{method}:{args.get('channel', '')}"
        await self._turn(method, f"{method}:{channel}", hold)
        self._metrics.slack_calls.labels(method).inc()
        try:
            response = await self._client.api_call(method, json=args)
        except SlackApiError as exc:
            raise self._translate(method, hold, exc, thread=thread) from None
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise RetryLater(f"{method}: {type(exc).__name__}") from None
        data: dict[str, Any] = response.data  # type: ignore[assignment]
        return data

    async def _turn(self, method: str, key: str, hold: str) -> None:
        """Wait for a pacing token. Held by a 429, the job goes back to the outbox at
        once instead: a worker waiting here is one the other channels lack."""
        if (wait := self._pacer.held_for(hold)) > 0:
            raise RetryLater(f"{method}: rate limited", after=wait, throttled=True)
        await self._pacer.acquire(key)

    def _translate(self, method: str, hold: str, exc: SlackApiError, *, thread: bool) -> Exception:
        status = exc.response.status_code
        error = str(exc.response.get("error", "")) if isinstance(exc.response.data, dict) else ""
        if status == 429 or error == "ratelimited":
            after = min(float(exc.response.headers.get("Retry-After", "1") or 1), MAX_RETRY_AFTER)
            self._pacer.hold(hold, after)
            self._metrics.slack_ratelimited.labels(method).inc()
            return RetryLater(f"{method}: rate limited", after=after, throttled=True)
        if status >= 500:
            return RetryLater(f"{method}: Slack answered {status}")
        if thread and error in _GONE:
            return ThreadGone(error)
        if error in _OPERATOR:
            return RetryLater(f"{method}: {error}: {_OPERATOR[error]}")
        return GiveUp(f"{method}: {error or status}")
