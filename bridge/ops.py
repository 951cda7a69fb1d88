"""Endpoints for load balancers and Prometheus."""

from __future__ import annotations

from typing import Protocol

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from bridge.metrics import Metrics
from bridge.store.base import JobStore, StoreHealth, StoreUnavailable


class _Store(StoreHealth, JobStore, Protocol):
    """The store roles this module uses."""


class OpsEndpoints:
    def __init__(self, store: _Store, metrics: Metrics) -> None:
        self._store = store
        self._metrics = metrics

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/healthz", self.healthz),
            web.get("/readyz", self.readyz),
            web.get("/metrics", self.metrics),
        ]

    async def healthz(self, _request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def readyz(self, _request: web.Request) -> web.Response:
        if await self._store.ping():
            return web.json_response({"status": "ready"})
        refusing = self._store.refusing
        if refusing is not None:
            status = {"status": f"store refuses writes: {refusing.reason}", "cause": str(refusing)}
            return web.json_response(status, status=503)
        return web.json_response({"status": "store unreachable"}, status=503)

    async def metrics(self, _request: web.Request) -> web.Response:
        try:
            depth = await self._store.queue_depth()
        except StoreUnavailable:
            depth = {}  # the queue's gauges are left out; the other figures still count
        body = self._metrics.render(depth)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
