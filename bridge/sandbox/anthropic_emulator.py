"""A local Anthropic: `POST /v1/messages` as the real `anthropic.AsyncAnthropic` calls it.

Point the SDK here with `AsyncAnthropic(base_url=emulator.base_url, api_key=emulator.api_key)`.
Tests queue the answers (`reply`, `tool_use`, `text`); with nothing queued the emulator
hands off with a fixed draft, so a demo runs without a script. Errors use Anthropic's JSON
shape and status codes, so the SDK raises the same exceptions (`RateLimitError`,
`OverloadedError`, …) and retries them the same way as against api.anthropic.com.

Usage is estimated (4 characters a token) with prompt caching as the API does it: the
prefix up to the last block marked `cache_control` (tools, then system, then messages) is a
cache write the first time it is seen and a cache read afterwards. Unlike the API, any
prefix length caches (the API needs 1,024-4,096 tokens, by model) and nothing expires.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import time
import uuid
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bridge.ai.drafter import Draft
from bridge.sandbox.recorder import ANY, Failure, FailureInjector, LocalServer

MAX_BODY_BYTES = 32 * 1024 * 1024  # the API's request limit
DEFAULT_DRAFT: dict[str, Any] = {
    "reply": "Thanks for your message. A member of our team will reply shortly.",
    "confidence": 0.4,
    "intent": "other",
    "urgency": "normal",
    "escalate": True,
    "reason": "emulator default",
    "sources": [],
    "appointment": None,
}
ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}
_ERROR_MESSAGES = {
    429: "Number of request tokens has exceeded your per-minute rate limit",
    529: "Overloaded",
}


@dataclass(frozen=True)
class MessagesRequest:
    """One `POST /v1/messages` as the emulator saw it, refused ones included."""

    body: dict[str, Any]
    auth: str  # how the key came: "bearer", "x-api-key" or "" (none)
    time: float
    status: int = 200
    error: str | None = None  # Anthropic's error type when refused

    @property
    def system(self) -> list[dict[str, Any]]:
        """The system prompt as blocks (a plain string is one text block)."""
        return _blocks(self.body.get("system"))

    def blocks(self, role: str) -> list[dict[str, Any]]:
        """The content blocks of every message of `role` (plain strings as text blocks)."""
        found: list[dict[str, Any]] = []
        for message in self.body.get("messages") or []:
            if isinstance(message, dict) and message.get("role") == role:
                found.extend(_blocks(message.get("content")))
        return found

    def texts(self, role: str) -> list[str]:
        return [b["text"] for b in self.blocks(role) if b.get("type") == "text"]

    @property
    def tool_results(self) -> list[dict[str, Any]]:
        return [b for b in self.blocks("user") if b.get("type") == "tool_result"]


@dataclass(frozen=True)
class _Answer:
    content: list[dict[str, Any]]
    stop_reason: str


class _Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class AnthropicEmulator:
    """An in-memory Messages API with scripted answers, failures and delays."""

    def __init__(self, api_key: str = "sk-test") -> None:
        self.api_key = api_key
        self.requests: list[MessagesRequest] = []
        # Seconds every answer is held back: a slow model, or a timeout for the client.
        self.delay_seconds = 0.0
        self._answers: deque[_Answer] = deque()
        self._failures = FailureInjector()
        self._cached: set[str] = set()  # hashes of the prefixes written to the cache
        self._stopping = asyncio.Event()
        self.app = web.Application(client_max_size=MAX_BODY_BYTES)
        self.app.router.add_post("/v1/messages", self._messages)
        self._server = LocalServer(self.app)

    # -- running on a socket ---------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve on a real socket; returns the base URL to give the SDK."""
        self._stopping.clear()
        return await self._server.start(host, port)

    @property
    def base_url(self) -> str | None:
        return self._server.base_url

    async def stop(self) -> None:
        self._stopping.set()  # delayed answers end now instead of holding up the shutdown
        await self._server.stop()

    # -- scripting -------------------------------------------------------------------

    def reply(self, draft: Draft | Mapping[str, Any]) -> None:
        """Answer the next request with this draft as structured output."""
        data = draft.model_dump() if isinstance(draft, Draft) else dict(draft)
        self.text(json.dumps(data))

    def text(self, text: str) -> None:
        """Answer the next request with this text as it is (e.g. not JSON)."""
        self._answers.append(_Answer([{"type": "text", "text": text}], "end_turn"))

    def tool_use(self, name: str, tool_input: Mapping[str, Any]) -> str:
        """Answer the next request by calling a tool; returns the tool_use id."""
        block_id = "toolu_" + uuid.uuid4().hex[:24]
        block = {"type": "tool_use", "id": block_id, "name": name, "input": dict(tool_input)}
        self._answers.append(_Answer([block], "tool_use"))
        return block_id

    def delay(self, seconds: float) -> None:
        self.delay_seconds = seconds

    def fail(self, status: int = 500, times: int = 1, *, retry_after: int | None = None) -> None:
        """Refuse the next `times` requests with `status` (429, 529, 500, …), optionally
        with a `retry-after` header."""
        self._failures.add_times(ANY, Failure(status, retry_after), times)

    def clear(self) -> None:
        """Forget requests, queued answers, failures, the delay and the cache."""
        self.requests.clear()
        self._answers.clear()
        self._failures.clear()
        self._cached.clear()
        self.delay_seconds = 0.0

    # -- HTTP ------------------------------------------------------------------------

    async def _messages(self, request: web.Request) -> web.Response:
        if self.delay_seconds:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.delay_seconds)
        auth, key = _credential(request)
        try:
            body: Any = await request.json()
        except ValueError:
            body = None
        headers = {"request-id": "req_" + uuid.uuid4().hex[:24]}
        try:
            answer = self._answer(key, body, headers)
            status, error = 200, None
        except _Refused as refused:
            status, error = refused.status, ERROR_TYPES.get(refused.status, "api_error")
            answer = {
                "type": "error",
                "error": {"type": error, "message": refused.message},
                "request_id": headers["request-id"],
            }
        recorded = body if isinstance(body, dict) else {}
        self.requests.append(MessagesRequest(recorded, auth, time.time(), status, error))
        return web.json_response(answer, status=status, headers=headers)

    def _answer(self, key: str, body: Any, headers: dict[str, str]) -> dict[str, Any]:
        if not hmac.compare_digest(key.encode(), self.api_key.encode()):
            raise _Refused(401, "invalid x-api-key")
        failure = self._failures.take(ANY)
        if failure is not None:
            if failure.retry_after is not None:
                headers["retry-after"] = str(failure.retry_after)
            message = _ERROR_MESSAGES.get(failure.status, "Internal server error")
            raise _Refused(failure.status, message)
        _validate(body)
        answer = self._answers.popleft() if self._answers else _default_answer()
        output = "".join(
            b["text"] if b["type"] == "text" else json.dumps(b["input"]) for b in answer.content
        )
        return {
            "id": "msg_" + uuid.uuid4().hex[:24],
            "type": "message",
            "role": "assistant",
            "model": body["model"],
            "content": answer.content,
            "stop_reason": answer.stop_reason,
            "stop_sequence": None,
            "usage": self._usage(body, output),
        }

    def _usage(self, body: dict[str, Any], output: str) -> dict[str, int]:
        segments = _segments(body)
        marked = [i for i, (_, _, cached) in enumerate(segments) if cached]
        split = marked[-1] + 1 if marked else 0
        prefix_chars = sum(chars for _, chars, _ in segments[:split])
        written = read = 0
        if split:
            digest = hashlib.sha256(body["model"].encode())
            for key, _, _ in segments[:split]:
                digest.update(b"\x00" + key.encode())
            if digest.hexdigest() in self._cached:
                read = prefix_chars // 4
            else:
                self._cached.add(digest.hexdigest())
                written = prefix_chars // 4
        rest_chars = sum(chars for _, chars, _ in segments[split:])
        return {
            "input_tokens": rest_chars // 4,
            "output_tokens": max(1, len(output) // 4),
            "cache_creation_input_tokens": written,
            "cache_read_input_tokens": read,
        }


def _credential(request: web.Request) -> tuple[str, str]:
    """(how the key came, the key): the SDK sends a Bearer token; `x-api-key` also works."""
    bearer = request.headers.get("Authorization", "")
    if bearer.startswith("Bearer "):
        return "bearer", bearer.removeprefix("Bearer ")
    if "x-api-key" in request.headers:
        return "x-api-key", request.headers["x-api-key"]
    return "", ""


def _validate(body: Any) -> None:
    """What the API checks that a client can get wrong: required fields, roles, and every
    tool_use answered by a tool_result in the next message."""
    if not isinstance(body, dict):
        raise _Refused(400, "the body must be a JSON object")
    if not isinstance(body.get("model"), str) or not body["model"]:
        raise _Refused(400, "model: Field required")
    max_tokens = body.get("max_tokens")
    if not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1:
        raise _Refused(400, "max_tokens: Field required")
    tools = body.get("tools", [])
    if not isinstance(tools, list) or not all(isinstance(t, dict) and t.get("name") for t in tools):
        raise _Refused(400, "tools: each tool needs a name")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise _Refused(400, "messages: Field required")
    pending: set[str] = set()
    for index, message in enumerate(messages):
        role = message.get("role") if isinstance(message, dict) else None
        if role not in ("user", "assistant"):
            raise _Refused(400, f"messages.{index}.role: must be 'user' or 'assistant'")
        blocks = _blocks(message.get("content"))
        if any(b.get("type") == "text" and not b.get("text") for b in blocks):
            raise _Refused(400, f"messages.{index}: text content blocks must be non-empty")
        answered = {b.get("tool_use_id") for b in blocks if b.get("type") == "tool_result"}
        if pending - answered:
            raise _Refused(
                400, f"messages.{index}: tool_use ids were found without tool_result blocks"
            )
        pending = {b["id"] for b in blocks if b.get("type") == "tool_use"}
    if pending:
        raise _Refused(400, "the last message has tool_use blocks without tool_result blocks")


def _blocks(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    return [b for b in content or [] if isinstance(b, dict)]


def _segments(body: dict[str, Any]) -> list[tuple[str, int, bool]]:
    """The prompt in cache order (tools, system, messages) as (key, characters, marked)."""
    blocks = [*(body.get("tools") or []), *_blocks(body.get("system"))]
    for message in body["messages"]:
        blocks.extend({"role": message["role"], **b} for b in _blocks(message.get("content")))
    segments = []
    for block in blocks:
        marked = block.get("cache_control") is not None
        plain = {k: v for k, v in block.items() if k != "cache_control"}
        key = json.dumps(plain, sort_keys=True)
        chars = len(block["text"]) if block.get("type") == "text" else len(key)
        segments.append((key, chars, marked))
    return segments


def _default_answer() -> _Answer:
    return _Answer([{"type": "text", "text": json.dumps(DEFAULT_DRAFT)}], "end_turn")
