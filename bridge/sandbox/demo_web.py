"""The demo page's server: the page itself, its live state over Server-Sent Events, and
a small JSON API for what people do on the page (each call becomes what Slack or
Twilio would send the bridge). It also receives the bridge's `response_url` posts."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from bridge.sandbox.demo_sample import SAMPLE_PHOTO
from bridge.sandbox.demo_scenarios import ScenarioPlayer
from bridge.sandbox.demo_slack_client import SlackClient
from bridge.sandbox.demo_state import snapshot
from bridge.sandbox.demo_world import Sandbox

STATIC_DIR = Path(__file__).with_name("static")
# A comment line keeps idle connections (and proxies) from timing out.
HEARTBEAT_SECONDS = 15.0
# Changes come in bursts (a text is a webhook, a post, a header update): one frame for them.
COALESCE_SECONDS = 0.03
NO_STORE = {"Cache-Control": "no-store"}


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NewPhone(_In):
    phone: str = Field(min_length=3, max_length=32)
    name: str = Field(default="", max_length=80)


class Text(_In):
    phone: str
    body: str = Field(default="", max_length=1600)
    photo: bool = False

    @model_validator(mode="after")
    def _something(self) -> Text:
        if not (self.body.strip() or self.photo):
            raise ValueError("a text needs words or a photo")
        return self


class Post(_In):
    user: str
    text: str = Field(min_length=1, max_length=4000)
    thread_ts: str | None = None
    channel: str | None = None  # a routing team's channel; the inbox when not given


class Edit(_In):
    user: str
    ts: str
    text: str = Field(min_length=1, max_length=4000)


class Delete(_In):
    user: str
    ts: str


class React(_In):
    user: str
    ts: str
    name: str = Field(pattern=r"^[a-z0-9_+\-']+$")


class CommandForm(_In):
    user: str
    text: str = Field(min_length=2, max_length=4000)
    thread_ts: str | None = None


class ActionForm(_In):
    user: str
    message_ts: str = ""
    block_id: str = ""
    element: dict[str, Any]
    ephemeral: bool = False
    home: bool = False
    selected: dict[str, Any] | None = None


class Home(_In):
    user: str


class Submit(_In):
    user: str
    values: dict[str, dict[str, str]] = Field(default_factory=dict)


class Play(_In):
    id: str


_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_T = TypeVar("_T", bound=_In)


class DemoPage:
    def __init__(self, sandbox: Sandbox, client: SlackClient, scenarios: ScenarioPlayer) -> None:
        self._sandbox = sandbox
        self._client = client
        self._scenarios = scenarios
        self.app = web.Application(middlewares=[self._same_origin_json])
        self.app.add_routes(
            [
                web.get("/", self._index),
                web.static("/static", STATIC_DIR),
                web.get("/api/state", self._state),
                web.get("/api/events", self._events),
                web.get("/files/{file_id}", self._file),
                web.get("/sample/photo.jpg", self._photo),
                web.post("/api/phones", self._add_phone),
                web.post("/api/text", self._text),
                web.post("/api/post", self._post),
                web.post("/api/edit", self._edit),
                web.post("/api/delete", self._delete),
                web.post("/api/react", self._react),
                web.post("/api/command", self._command),
                web.post("/api/action", self._action),
                web.post("/api/home", self._home),
                web.post("/api/view/submit", self._submit_view),
                web.post("/api/view/close", self._close_view),
                web.post("/api/scenario", self._play),
                web.post("/slack/response/{key}", self._response_url),
            ]
        )

    def state(self) -> dict[str, Any]:
        return snapshot(self._sandbox, self._client, self._scenarios.describe())

    # -- plumbing ---------------------------------------------------------------------------

    @web.middleware
    async def _same_origin_json(
        self, request: web.Request, handler: _Handler
    ) -> web.StreamResponse:
        """Changes need a JSON body: a browser cannot send one cross-site without a CORS
        preflight, which this server never grants, so other sites cannot drive the demo."""
        if request.method == "POST" and request.content_type != "application/json":
            return _error("send JSON (Content-Type: application/json)", 415)
        return await handler(request)

    async def _index(self, _request: web.Request) -> web.StreamResponse:
        return web.FileResponse(STATIC_DIR / "index.html", headers=NO_STORE)

    async def _state(self, _request: web.Request) -> web.Response:
        return web.json_response(self.state(), headers=NO_STORE)

    async def _events(self, request: web.Request) -> web.StreamResponse:
        """The page's live feed: the whole state each time it changes."""
        changes = self._sandbox.changes
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream",
                "Cache-Control": "no-store",
                "X-Accel-Buffering": "no",
            }
        )
        await response.prepare(request)
        sent = -1
        try:
            while not changes.closed:
                if changes.version != sent:
                    await asyncio.sleep(COALESCE_SECONDS)
                    sent = changes.version
                    data = json.dumps(self.state(), separators=(",", ":"))
                    await response.write(f"id: {sent}\nevent: state\ndata: {data}\n\n".encode())
                elif await changes.wait(sent, HEARTBEAT_SECONDS) == sent:
                    await response.write(b": still here\n\n")
        except (ConnectionResetError, asyncio.CancelledError):
            return response  # the page went away, or the demo is stopping
        return response

    async def _file(self, request: web.Request) -> web.Response:
        upload = self._sandbox.slack.file(request.match_info["file_id"])
        if upload is None or upload.data is None:
            raise web.HTTPNotFound()
        return web.Response(body=upload.data, content_type=upload.to_api("")["mimetype"])

    async def _photo(self, _request: web.Request) -> web.StreamResponse:
        return web.FileResponse(SAMPLE_PHOTO)

    # -- what people do on the page ------------------------------------------------------------

    async def _add_phone(self, request: web.Request) -> web.Response:
        data = await _read(request, NewPhone)
        try:
            phone = await self._sandbox.add_subscriber(data.phone, data.name.strip())
        except ValueError as exc:
            return _error(str(exc))
        return web.json_response({"ok": True, "phone": phone})

    async def _text(self, request: web.Request) -> web.Response:
        data = await _read(request, Text)
        if data.phone not in self._sandbox.subscribers:
            return _error("add this phone first")
        entry = await self._sandbox.text(data.phone, data.body, photo=data.photo)
        return web.json_response({"ok": entry.status == "ok", "detail": entry.detail})

    async def _post(self, request: web.Request) -> web.Response:
        data = await _read(request, Post)
        return await _answer(self._client.post(data.user, data.text, data.thread_ts, data.channel))

    async def _edit(self, request: web.Request) -> web.Response:
        data = await _read(request, Edit)
        return await _answer(self._client.edit(data.user, data.ts, data.text))

    async def _delete(self, request: web.Request) -> web.Response:
        data = await _read(request, Delete)
        return await _answer(self._client.delete(data.user, data.ts))

    async def _react(self, request: web.Request) -> web.Response:
        data = await _read(request, React)
        return await _answer(self._client.react(data.user, data.ts, data.name))

    async def _command(self, request: web.Request) -> web.Response:
        data = await _read(request, CommandForm)
        try:
            record = await self._client.command(data.user, data.text, data.thread_ts)
        except ValueError as exc:
            return _error(str(exc))
        return web.json_response({"ok": record.status == 200, "status": record.status})

    async def _action(self, request: web.Request) -> web.Response:
        data = await _read(request, ActionForm)
        return await _answer(
            self._client.action(
                data.user,
                message_ts=data.message_ts,
                block_id=data.block_id,
                element=data.element,
                ephemeral=data.ephemeral,
                home=data.home,
                selected=data.selected,
            )
        )

    async def _home(self, request: web.Request) -> web.Response:
        data = await _read(request, Home)
        return await _answer(self._client.open_home(data.user))

    async def _submit_view(self, request: web.Request) -> web.Response:
        data = await _read(request, Submit)
        return await _answer(self._client.submit_view(data.user, data.values))

    async def _close_view(self, request: web.Request) -> web.Response:
        data = await _read(request, Home)
        try:
            answer = await self._client.close_view(data.user)
        except ValueError as exc:
            return _error(str(exc))
        return web.json_response({"ok": True, "status": answer.status if answer else 200})

    async def _play(self, request: web.Request) -> web.Response:
        data = await _read(request, Play)
        try:
            self._scenarios.play(data.id)
        except ValueError as exc:
            return _error(str(exc))
        return web.json_response({"ok": True})

    async def _response_url(self, request: web.Request) -> web.Response:
        body = await request.json()
        if not isinstance(body, dict):
            return _error("a response_url body is a JSON object")
        if not await self._client.respond(request.match_info["key"], body):
            raise web.HTTPNotFound(text="unknown response_url")
        return web.json_response({"ok": True})


async def _read(request: web.Request, model: type[_T]) -> _T:
    try:
        return model.model_validate(await request.json())
    except (ValidationError, ValueError) as exc:
        raise web.HTTPBadRequest(
            text=json.dumps({"error": _reason(exc)}), content_type="application/json"
        ) from None


def _reason(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"])
        return f"{where}: {error['msg']}" if where else str(error["msg"])
    return "the body is not JSON"


async def _answer(action: Awaitable[Any]) -> web.Response:
    """How the bridge answered what Slack delivered, or why it was not delivered."""
    try:
        answer = await action
    except ValueError as exc:
        return _error(str(exc))
    return web.json_response({"ok": answer.status == 200, "status": answer.status})


def _error(reason: str, status: int = 400) -> web.Response:
    return web.json_response({"error": reason}, status=status)
