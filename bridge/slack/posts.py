"""Every post into Slack happens once.

Slack has no idempotency key, so each post is recorded (its key, where, when) before
the call and its ts after, and carries its key in the message's metadata. A job that
runs again after a crash, or after an answer it never got, finds the record: landed,
and only the bookkeeping is left; or unknown, and it finds out before posting again:
- Slack echoes the app's own posts as `message` events with their metadata: whichever
  process gets the echo records where the post landed (`landed_echo`);
- a top-level post (a thread's parent, a report) is looked up in conversations.history,
  one read covering every unknown post of its channel, as Slack allows apps outside its
  Marketplace about one such read a minute;
- a thread reply cannot be read back with a bot token (Slack's conversations.replies
  needs a user token in channels), so its echo is waited for, as long as Slack keeps
  retrying an event it could not deliver;
- but when this process got the doubtful answer itself (a 5xx, a dropped connection)
  it was listening all along, and Slack's first delivery of the echo would have come:
  any post then waits for its echo only briefly.
Only a post certainly not made is made again.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog

from bridge.delivery.errors import GiveUp, RetryLater
from bridge.models import SlackPost, utcnow
from bridge.remembered import Recent
from bridge.slack.gateway import SlackGateway, ThreadGone, Unconfirmed
from bridge.store.base import PostStore

log = structlog.get_logger(__name__)

POST_EVENT = "sms_bridge_post"  # the metadata event type of the bridge's posts
# An attempt this young may still be on its way (a stalled process, a slow answer):
# the call's own timeout and a margin.
IN_FLIGHT_SECONDS = 15.0
# How often a job waiting for an echo looks again.
ECHO_POLL_SECONDS = 2.0
# How long the echo of a post whose doubtful answer this (live) process got may take:
# Slack delivers events within a second or two.
PROMPT_ECHO_SECONDS = 20.0
# Posts landed here that an echo may still come for (seconds' worth at full pace), and
# posts whose answer was doubtful.
REMEMBERED_KEYS = 4096
# An echo often outruns the answer to the post it echoes: it waits this long for this
# process's own landing write before writing the landing itself.
ECHO_GRACE_SECONDS = 10.0
# Slack's clock and ours: a history read starts this much before the oldest attempt.
CLOCK_SKEW = timedelta(seconds=5)


def post_metadata(key: str) -> dict[str, Any]:
    return {"event_type": POST_EVENT, "event_payload": {"key": key}}


def post_key(message: Mapping[str, Any]) -> str | None:
    """The post key a message of the bridge's carries in its metadata, if any."""
    metadata = message.get("metadata")
    if not isinstance(metadata, Mapping) or metadata.get("event_type") != POST_EVENT:
        return None
    payload = metadata.get("event_payload")
    key = payload.get("key") if isinstance(payload, Mapping) else None
    return key if isinstance(key, str) and key else None


def echoed_post(body: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The message of an event that carries a post key of the bridge's (an echo of
    one of its posts, or a look-alike that `SlackPosts.landed_echo` refuses)."""
    event = body.get("event")
    if body.get("type") != "event_callback" or not isinstance(event, Mapping):
        return None
    if event.get("type") != "message" or post_key(event) is None:
        return None
    return event


class ThreadNotRecordedYet(Exception):
    """A reply came in a thread whose parent may be the bridge's post on its way (its
    ts not stored yet): Slack is to deliver it again rather than it being dropped."""

    answer = "thread not recorded yet"


@dataclass(frozen=True)
class Posted:
    """Where a post landed, and what the attempt that landed was told (`detail`)."""

    channel: str
    ts: str
    detail: str
    key: str  # landed with the caller's own write when it posted with `land=False`


def _direct(channel: str) -> bool:
    """A DM (posted to a user ID): no history the bot can read without more scopes."""
    return channel[:1] in {"U", "W", "D"}


class SlackPosts:
    def __init__(self, store: PostStore, gateway: SlackGateway, *, echo_wait: float) -> None:
        self._store = store
        self._gateway = gateway
        self._echo_wait = echo_wait
        # History reads by channel, with when each is due (monotonic, Slack's pace).
        self._lookups: dict[str, tuple[asyncio.Task[None], float]] = {}
        # Keys whose attempt ended here with a doubtful answer: not in flight anywhere.
        # Forgotten once landed; one that lands elsewhere is forgotten with age (then an
        # attempt here waits for it as for one in flight).
        self._doubtful: Recent[str] = Recent(REMEMBERED_KEYS)
        # Keys this process landed lately: their echoes need no write.
        self._landed: Recent[str] = Recent(REMEMBERED_KEYS)
        # Keys being posted here, set once their landing is written (or will not be).
        self._posting: dict[str, asyncio.Event] = {}

    async def post(
        self,
        key: str,
        channel: str,
        text: str,
        *,
        thread_ts: str | None = None,
        blocks: list[dict[str, Any]] | None = None,
        broadcast: bool = False,
        detail: str = "",
        as_person: tuple[str, str] | None = None,
        land: bool = True,
    ) -> Posted:
        """Post once under `key`, now or by an earlier attempt (whose `detail` may differ
        from this one's). Raises `RetryLater` while an earlier attempt's outcome is
        unknown. `land=False`: the caller records where it landed in its own next
        write (one write fewer on a busy path; see `Store.set_message_slack_ts`)."""
        attempt = await self._store.begin_post(key, channel, thread_ts, at=utcnow(), detail=detail)
        if attempt.resumed:
            if attempt.post.ts is not None:
                self._doubtful.discard(key)  # it landed: its echo, or a history read
                return Posted(attempt.post.channel, attempt.post.ts, attempt.post.detail, key)
            await self._settle(attempt.post)  # returns only when it certainly did not post
            attempt = await self._store.begin_post(
                key, channel, thread_ts, at=utcnow(), detail=detail
            )
            if attempt.resumed:  # another process began it again meanwhile
                raise RetryLater("the post was begun again elsewhere", after=1, throttled=True)
        self._posting[key] = asyncio.Event()
        try:
            ts = await self._gateway.post_message(
                channel,
                text,
                thread_ts=thread_ts,
                blocks=blocks,
                broadcast=broadcast,
                metadata=post_metadata(key),
                as_person=as_person,
            )
        except BaseException as exc:
            self._settled_here(key)  # an echo of it lands it
            if isinstance(exc, Unconfirmed):
                self._doubtful.add(key)
            elif isinstance(exc, RetryLater | GiveUp | ThreadGone):  # nothing was posted
                await self._store.drop_post(key, started_at=attempt.post.started_at)
            raise  # also when cancelled: the next run finds out what landed
        self._doubtful.discard(key)
        if land:
            await self._store.land_post(key, ts)
            self.landed(key)
        return Posted(channel, ts, detail, key)

    async def upload(
        self, key: str, channel: str, thread_ts: str, *, filename: str, content: bytes
    ) -> None:
        """Share a file in a thread once under `key`. A file carries no metadata, so an
        earlier attempt of unknown outcome is looked up by its file id (files.info)."""
        file_id, url = await self._gateway.reserve_upload(filename, len(content))
        attempt = await self._store.begin_post(key, channel, thread_ts, at=utcnow(), detail=file_id)
        if attempt.resumed:
            if attempt.post.ts is not None or await self._shared_before(attempt.post):
                return  # this run's reserved file is never shared; Slack discards it
            attempt = await self._store.begin_post(
                key, channel, thread_ts, at=utcnow(), detail=file_id
            )
            if attempt.resumed:
                raise RetryLater("the upload was begun again elsewhere", after=1, throttled=True)
        try:
            await self._gateway.send_upload(url, content)
            await self._gateway.share_upload(file_id, channel, thread_ts, filename)
        except (RetryLater, GiveUp, ThreadGone) as exc:
            if isinstance(exc, Unconfirmed):
                self._doubtful.add(key)
            else:
                await self._store.drop_post(key, started_at=attempt.post.started_at)
            raise
        self._doubtful.discard(key)
        await self._store.land_post(key, file_id)

    async def _shared_before(self, post: SlackPost) -> bool:
        """Whether an earlier upload attempt shared its file; when it certainly did not,
        its record is dropped. Raises `RetryLater` while that may still change."""
        age = (utcnow() - post.started_at).total_seconds()
        if post.key not in self._doubtful and age < IN_FLIGHT_SECONDS:
            wait = IN_FLIGHT_SECONDS - age
            raise RetryLater("an earlier upload may still be going", after=wait, throttled=True)
        try:
            ts = await self._gateway.shared_at(post.detail, post.channel, post.thread_ts or "")
        except GiveUp:
            ts = None  # Slack has no such file: the upload never finished
        self._doubtful.discard(post.key)
        if ts is not None:
            await self._store.land_post(post.key, ts)
            return True
        await self._store.drop_post(post.key, started_at=post.started_at)
        return False

    async def landed_echo(self, message: Mapping[str, Any]) -> bool:
        """A `message` event of the app's own post: record where it landed. Whether it
        was such an echo (then it needs nothing else)."""
        key, ts = post_key(message), message.get("ts")
        if key is None or not isinstance(ts, str):
            return False
        if message.get("bot_id") != await self._gateway.bot_id():
            return False  # another app's message: its metadata says nothing of ours
        posting = self._posting.get(key)
        if posting is not None:  # this process is posting it: its own write lands it
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(ECHO_GRACE_SECONDS):
                    await posting.wait()
        if key not in self._landed:
            await self._store.land_post(key, ts)
            self.landed(key)
        return True

    @contextlib.asynccontextmanager
    async def landing(self, key: str) -> AsyncIterator[None]:
        """Around the caller's own write that records where `key` landed, after
        `post(land=False)`: should that write fail, the echo lands the post at once."""
        try:
            yield
        except BaseException:
            self._settled_here(key)
            raise
        self.landed(key)

    def landed(self, key: str) -> None:
        """The post `key` is recorded as landed: its echo needs no write."""
        self._landed.add(key)
        self._doubtful.discard(key)
        self._settled_here(key)

    def _settled_here(self, key: str) -> None:
        posting = self._posting.pop(key, None)
        if posting is not None:
            posting.set()

    async def _settle(self, post: SlackPost) -> None:
        """Return if the attempt certainly did not post (its record is dropped); raise
        `RetryLater` while that is not known."""
        age = (utcnow() - post.started_at).total_seconds()
        ended_here = post.key in self._doubtful
        if not ended_here and age < IN_FLIGHT_SECONDS:
            wait = IN_FLIGHT_SECONDS - age
            raise RetryLater("an earlier attempt may still be posting", after=wait, throttled=True)
        if post.thread_ts is None and not _direct(post.channel):
            due = self._look_up(post.channel)
            if not ended_here:
                # The read waits for Slack's pace (about one a minute): look after it.
                wait = max(2.0, due - time.monotonic() + 1)
                raise RetryLater("looking for an earlier attempt", after=wait, throttled=True)
        echo_wait = min(PROMPT_ECHO_SECONDS, self._echo_wait) if ended_here else self._echo_wait
        if age < echo_wait:
            wait = min(ECHO_POLL_SECONDS, echo_wait - age)
            raise RetryLater(
                "waiting for the echo of an earlier attempt", after=wait, throttled=True
            )
        log.warning("slack.post_not_echoed", key=post.key, waited=echo_wait)
        self._doubtful.discard(post.key)
        await self._store.drop_post(post.key, started_at=post.started_at)

    def _look_up(self, channel: str) -> float:
        """Read the channel's history once for all its unknown top-level attempts, in
        the background: the jobs waiting for it hold no worker meanwhile. Returns when
        the read is due (monotonic)."""
        running = self._lookups.get(channel)
        if running is not None and not running[0].done():
            return running[1]
        due = time.monotonic() + self._gateway.wait_for("conversations.history")
        task = asyncio.create_task(self._read_history(channel), name=f"history:{channel}")
        self._lookups[channel] = (task, due)
        task.add_done_callback(self._lookup_done)
        return due

    def _lookup_done(self, task: asyncio.Task[None]) -> None:
        if task.cancelled() or (error := task.exception()) is None:
            return
        # A read not made settles nothing; the waiting jobs start another one. Another
        # process's read having taken the turn is pacing, not a failure.
        if isinstance(error, RetryLater) and error.throttled:
            log.info("slack.history_lookup_paced", error=str(error))
        else:
            log.warning("slack.history_lookup_failed", error=str(error))

    async def landed_at(self, channel: str, ts: str) -> SlackPost | None:
        """The bridge's post that landed as `ts` in `channel`, if recorded."""
        return await self._store.landed_post(channel, ts)

    async def unsettled_top(self, channel: str) -> list[SlackPost]:
        """Top-level posts into `channel` whose outcome is not recorded yet."""
        return [p for p in await self._store.unsettled_posts(channel) if p.thread_ts is None]

    async def _read_history(self, channel: str) -> None:
        pending = await self.unsettled_top(channel)
        if not pending:
            return
        # One read for all of them: wait until the youngest can no longer be on its way
        # (an attempt whose doubtful answer came here is not).
        youngest = max(p.started_at for p in pending)
        ripe = max(
            (
                p.started_at + timedelta(seconds=IN_FLIGHT_SECONDS)
                for p in pending
                if p.key not in self._doubtful
            ),
            default=utcnow(),
        )
        if ripe > utcnow():
            await asyncio.sleep((ripe - utcnow()).total_seconds())
            pending = [p for p in await self.unsettled_top(channel) if p.started_at <= youngest]
            if not pending:
                return
        oldest = min(p.started_at for p in pending) - CLOCK_SKEW
        own = await self._gateway.bot_id()
        found: dict[str, str] = {}
        cursor = ""
        while True:
            messages, cursor = await self._gateway.history(
                channel, oldest=_slack_ts(oldest), cursor=cursor
            )
            for message in messages:
                key = post_key(message)
                if key is not None and message.get("bot_id") == own and "ts" in message:
                    found.setdefault(key, str(message["ts"]))
            if not cursor:
                break
        for post in pending:
            if post.key in found:
                await self._store.land_post(post.key, found[post.key])
            else:  # not in Slack: post it again
                await self._store.drop_post(post.key, started_at=post.started_at)
        log.info("slack.history_lookup", channel=channel, found=len(found), pending=len(pending))

    async def close(self) -> None:
        for task, _ in self._lookups.values():
            task.cancel()
        for task, _ in self._lookups.values():
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


def _slack_ts(at: datetime) -> str:
    return f"{at.timestamp():.6f}"
