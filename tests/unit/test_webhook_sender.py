"""The webhook sender alone: signed per INTERFACES.md, 2xx is done, anything else is
RetryLater (a Retry-After honoured), a slow receiver times out, an unknown webhook is
given up; a huge answer is not read whole."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from pydantic import SecretStr

from bridge.delivery.errors import GiveUp, RetryLater
from bridge.notify.http_post import retry_after
from bridge.notify.webhook_sender import WebhookSender
from bridge.sender_settings import WebhookSetting
from tests.support import on_loopback

SECRET = "whsec-0123456789abcdef"
AT = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
Answer = Callable[[web.Request], Awaitable[web.StreamResponse]]


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Answer], Awaitable[str]]]:
    async with AsyncExitStack() as servers:

        async def start(answer: Answer) -> str:
            app = web.Application()
            app.router.add_post("/h", answer)
            return f"{await servers.enter_async_context(on_loopback(app))}/h"

        yield start


async def _send(url: str, *, seconds: float = 10.0) -> None:
    hook = WebhookSetting(name="crm", url=url, secret=SecretStr(SECRET), timeout_seconds=seconds)
    async with aiohttp.ClientSession() as session:
        sender = WebhookSender(session, [hook])
        await sender.send(
            "crm",
            "message.received",
            {"conversation": {"id": 7}, "message": {"body": "hi"}},
            "k1",
            AT,
        )


async def test_the_body_and_signature_follow_the_interface(serve: Callable[..., Any]) -> None:
    got: list[tuple[dict[str, str], bytes]] = []

    async def answer(request: web.Request) -> web.Response:
        got.append((dict(request.headers), await request.read()))
        return web.Response(status=200)

    before = int(time.time())
    await _send(await serve(answer))
    [(headers, body)] = got
    assert json.loads(body) == {
        "event": "message.received",
        "conversation": {"id": 7},
        "message": {"body": "hi"},
        "at": "2026-03-02T12:00:00Z",
    }
    stamp, signed = headers["X-Bridge-Signature"].split(",")
    t = int(stamp.removeprefix("t="))
    assert before <= t <= int(time.time())
    digest = hmac.new(SECRET.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    assert signed == f"sha256={digest}"
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Bridge-Event"] == "message.received"
    assert len(headers["X-Bridge-Delivery"]) == 32


@pytest.mark.parametrize("status", [400, 404, 410, 500, 503])
async def test_an_error_status_is_retried_later(serve: Callable[..., Any], status: int) -> None:
    async def answer(_request: web.Request) -> web.Response:
        return web.Response(status=status)

    with pytest.raises(RetryLater) as later:
        await _send(await serve(answer))
    assert "crm" in str(later.value)
    assert str(status) in str(later.value)
    assert later.value.after is None  # the outbox's exponential backoff


async def test_retry_after_is_honoured(serve: Callable[..., Any]) -> None:
    async def answer(_request: web.Request) -> web.Response:
        return web.Response(status=429, headers={"Retry-After": "42"})

    with pytest.raises(RetryLater) as later:
        await _send(await serve(answer))
    assert later.value.after == 42


async def test_a_receiver_that_does_not_answer_in_time_is_retried(
    serve: Callable[..., Any],
) -> None:
    async def answer(_request: web.Request) -> web.Response:
        await asyncio.sleep(30)
        return web.Response(status=200)

    with pytest.raises(RetryLater) as later:
        await _send(await serve(answer), seconds=0.2)
    assert "crm" in str(later.value)


async def test_a_huge_answer_is_not_read_whole(serve: Callable[..., Any]) -> None:
    async def answer(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(status=500)
        await response.prepare(request)
        for _ in range(64):  # 64 MiB, more than the sender ever reads
            await response.write(b"x" * 1024 * 1024)
        return response

    with pytest.raises(RetryLater) as later:
        await _send(await serve(answer))
    assert len(str(later.value)) < 1000


async def test_an_unknown_webhook_is_given_up_naming_the_setting() -> None:
    async with aiohttp.ClientSession() as session:
        sender = WebhookSender(session, [])
        with pytest.raises(GiveUp) as given_up:
            await sender.send("crm", "message.received", {}, "k", AT)
    assert "notifications.webhooks" in str(given_up.value)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        ("Mon, 02 Mar 2026 12:01:30 GMT", 90.0),
        ("Mon, 02 Mar 2026 11:00:00 GMT", 0.0),  # already past: now
        ("999999", 3600.0),  # at most an hour
        ("soon", None),
        (None, None),
    ],
)
def test_retry_after_reads_seconds_and_dates(value: str | None, seconds: float | None) -> None:
    assert retry_after(value, now=AT) == seconds
