"""Helpers shared by the integration and end-to-end tests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from bridge.sandbox.recorder import WebhookResponse
from bridge.sandbox.shown import parents, shown_in
from bridge.sandbox.slack_emulator import SlackEmulator
from bridge.sandbox.twilio_emulator import TwilioEmulator
from bridge.sandbox.wiring import (
    BUSINESS,
    INBOX,
    PUBLIC_URL,  # noqa: F401 - the tests import it from here
    emulator_env,
    text_bridge,
    unfinished_jobs,
)

# The longest a fixture's tear-down step may take: a bridge stops well within it (two
# 5-second graces for its jobs, SHUTDOWN_SECONDS for requests in flight).
STOP_SECONDS = 30.0
# How long a test server waits for requests in flight when it stops; aiohttp's default
# is 60 s, twice (to finish, then after a cancel).
SHUTDOWN_SECONDS = 5.0


async def bounded(stop: Coroutine[Any, Any, None]) -> None:
    """A tear-down step that must end: one that hangs fails the test and names itself,
    and the fixtures after it still tear down."""
    name = getattr(stop, "__qualname__", repr(stop))  # a coroutine object has one
    try:
        async with asyncio.timeout(STOP_SECONDS):
            await stop
    except TimeoutError:
        raise AssertionError(f"{name} did not end within {STOP_SECONDS:.0f} s") from None


@asynccontextmanager
async def on_loopback(app: web.Application) -> AsyncIterator[str]:
    """Serve `app` on a free loopback port while inside: its base URL. Stopped bounded."""
    runner = web.AppRunner(app, shutdown_timeout=SHUTDOWN_SECONDS)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await bounded(runner.cleanup())


def bridge_env(slack: SlackEmulator, twilio: TwilioEmulator, db: Path) -> dict[str, str]:
    """The environment an operator would set, pointed at the local emulators, with
    Slack pacing fast enough for tests."""
    return emulator_env(slack, twilio, db) | {
        "BRIDGE_SLACK_POST_RATE": "200",
        "BRIDGE_SLACK_POST_BURST": "50",
        # The emulator retries undelivered echoes within seconds, not Slack's 6 minutes.
        "BRIDGE_SLACK_ECHO_WAIT_SECONDS": "6",
    }


@dataclass
class BridgeUnderTest:
    url: str
    twilio: TwilioEmulator
    app: web.Application | None = None

    async def idle(self, *, within: float = 30.0) -> None:
        """Wait until the bridge has no unfinished job (dead ones aside): whatever it was
        going to do has happened, so a test can assert that nothing more does."""
        deadline = time.monotonic() + within
        async with aiohttp.ClientSession() as http:
            while True:
                async with http.get(f"{self.url}/metrics") as response:
                    depth = unfinished_jobs(await response.text())
                if depth == 0:
                    return
                if time.monotonic() > deadline:
                    raise AssertionError(f"{depth} jobs still unfinished")
                await asyncio.sleep(0.05)

    async def text(self, from_: str, body: str, *, sid: str | None = None) -> WebhookResponse:
        """A subscriber texts the business number; Twilio posts the signed webhook."""
        return await text_bridge(self.twilio, self.url, from_, body, sid=sid)

    async def whatsapp(self, from_: str, body: str) -> WebhookResponse:
        """A WhatsApp user writes to the business's WhatsApp sender: Twilio posts the
        same signed webhook as for an SMS, with `whatsapp:` addresses."""
        return await text_bridge(
            self.twilio, self.url, f"whatsapp:{from_}", body, to=f"whatsapp:{BUSINESS}"
        )


def thread_texts(slack: SlackEmulator, subscriber_digits: str) -> list[str]:
    """The texts of the thread whose parent card names this subscriber."""
    for parent in slack.messages(INBOX):
        if subscriber_digits in parent.text:
            return [m.text for m in slack.replies(INBOX, parent.ts)]
    return []


def shown_texts(slack: SlackEmulator, subscriber_digits: str) -> list[str]:
    """The texts of the conversation whose parent card names this subscriber (see
    `shown_in`)."""
    for parent in slack.messages(INBOX):
        if subscriber_digits in parent.text:
            return shown_in(slack, parent)
    return []


def whatsapp_parents(slack: SlackEmulator) -> list[str]:
    """The ts of every WhatsApp conversation's parent message."""
    return [m.ts for m in slack.messages(INBOX) if m.text.startswith("WhatsApp conversation")]


def ephemerals(slack: SlackEmulator) -> list[str]:
    """The texts of every ephemeral message Slack took."""
    return [str(c.args["text"]) for c in slack.calls_to("chat.postEphemeral") if not c.failed]


async def eventually(check: Callable[[], bool], *, within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


async def eventually_async(check: Callable[[], Awaitable[bool]], *, within: float = 10.0) -> None:
    """`eventually`, for a check that has to wait for an answer (an HTTP request)."""
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


AGENT = "U0ANA"


class NoMentions:
    """A reply sender's directory when the replies mention nobody."""

    async def names(self, user_ids: set[str]) -> dict[str, str]:
        return {}


async def open_thread(bridge: BridgeUnderTest, slack: SlackEmulator, phone: str) -> str:
    """A subscriber texts first; returns the ts of the conversation's parent message."""
    before = {m.ts for m in parents(slack)}
    await bridge.text(phone, "Hello?")
    await eventually(lambda: len(parents(slack)) > len(before))
    parent = next(m for m in parents(slack) if m.ts not in before)
    await eventually(lambda: len(slack.replies(INBOX, parent.ts)) >= 1)
    return str(parent.ts)


async def agent_replies(
    bridge: BridgeUnderTest, slack: SlackEmulator, thread_ts: str, text: str, user: str = AGENT
) -> tuple[dict[str, Any], WebhookResponse]:
    """An agent types in the thread; Slack delivers the signed event to the bridge."""
    event = slack.user_posts(INBOX, user, text, thread_ts=thread_ts)
    envelope = slack.envelope(event)
    response = await slack.deliver(f"{bridge.url}/slack/events", envelope)
    return envelope, response


async def slash(
    bridge: BridgeUnderTest, slack: SlackEmulator, text: str, user: str = AGENT
) -> WebhookResponse:
    """Someone types `/sms <text>`; Slack posts the signed form to the bridge."""
    form = slack.slash_command(user, text, channel=INBOX)
    return await slack.deliver(f"{bridge.url}/slack/events", form, kind="command")
