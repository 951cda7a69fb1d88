"""A business's webhook receiver for the demo: keeps every signed POST the bridge makes
(the outbox page shows them) and says whether its signature holds."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

MAX_BODY = 64 * 1024  # a notification is a few KiB


@dataclass(frozen=True)
class ReceivedHook:
    at: float
    webhook: str
    event: str
    delivery: str
    signed: bool  # the HMAC checks out with the webhook's secret
    body: dict[str, Any]


class WebhookReceiver:
    def __init__(self, on_delivery: Callable[[], None] | None = None) -> None:
        self.deliveries: list[ReceivedHook] = []
        self.secrets: dict[str, str] = {}  # each webhook's, by name (its path's last part)
        self._on_delivery = on_delivery  # the demo's page redraws
        self._runner: web.AppRunner | None = None
        self.url = ""  # where it listens, once started

    async def _receive(self, request: web.Request) -> web.Response:
        body = await request.content.read(MAX_BODY + 1)
        if len(body) > MAX_BODY:
            return web.Response(status=413)
        stamp, _, signature = request.headers.get("X-Bridge-Signature", "").partition(",")
        name = request.match_info["name"]
        signed = f"{stamp.removeprefix('t=')}.".encode() + body
        secret = self.secrets.get(name, "").encode()
        expected = "sha256=" + hmac.new(secret, signed, hashlib.sha256).hexdigest()
        try:
            document = json.loads(body)
        except ValueError:
            return web.Response(status=400)
        self.deliveries.append(
            ReceivedHook(
                at=time.time(),
                webhook=name,
                event=request.headers.get("X-Bridge-Event", ""),
                delivery=request.headers.get("X-Bridge-Delivery", ""),
                signed=hmac.compare_digest(signature, expected),
                body=document,
            )
        )
        if self._on_delivery is not None:
            self._on_delivery()
        return web.Response(status=204)

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/hooks/{name}", self._receive)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}/hooks"  # + /<name>
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
