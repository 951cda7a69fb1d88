"""Messages kept current, like a campaign's progress or a poll's results: each posted
once (exactly once across crashes, through `SlackPosts`), then updated at most once per
`every` seconds, and only when what it shows changed.

The pace is kept per process (when each message was last written here): a paced update
is a throttled retry, which keeps its job's key, so whatever enqueues the job meanwhile
coalesces into it."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from bridge.delivery.errors import RetryLater
from bridge.slack.gateway import SlackGateway, ThreadGone
from bridge.slack.posts import SlackPosts

UPDATE_SECONDS = 5.0  # at most one chat.update of a live message this often


class LiveMessages:
    def __init__(
        self,
        posts: SlackPosts,
        gateway: SlackGateway,
        *,
        every: float = UPDATE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._posts = posts
        self._gateway = gateway
        self._every = every
        self._clock = clock
        # By post key: when the message was last written here, and what it showed.
        self._shown: dict[str, tuple[float, str]] = {}

    async def show(
        self, key: str, channel: str, ts: str | None, text: str, blocks: list[dict[str, Any]]
    ) -> tuple[str, str] | None:
        """Post the message `key` when it has no `ts` yet, and say where it landed (the
        caller keeps that); else update it, when it changed and its turn has come
        (`RetryLater` until then), and return None."""
        rendered = json.dumps([text, blocks], sort_keys=True)
        if ts is None:
            posted = await self._posts.post(key, channel, text, blocks=blocks)
            self._shown[key] = (self._clock(), rendered)
            return posted.channel, posted.ts
        last, shown = self._shown.get(key, (None, ""))
        if shown == rendered:
            return None  # nothing changed: no call
        if last is not None and (wait := last + self._every - self._clock()) > 0:
            raise RetryLater(f"paced: {key}", after=wait, throttled=True)
        try:
            await self._gateway.update_message(channel, ts, text, blocks)
        except ThreadGone:
            return None  # someone deleted it: what it showed goes on without it
        self._shown[key] = (self._clock(), rendered)
        return None

    def forget(self, key: str) -> None:
        """The message will not change again: its pace need not be kept."""
        self._shown.pop(key, None)
