"""The Claude drafting engine: one Messages API call per draft, plus one per tool round.

The request leads with the enabled tools (in a fixed order) and the system prompt: the
fixed rules, then the business profile and the whole knowledge base, marked for prompt
caching, so drafts against one knowledge-base version read that prefix from the cache.
The conversation and the current time go in the messages (see `claude_prompt`). The
answer is structured output, the `Draft` schema made strict, validated by pydantic; an
answer that does not validate is asked for once more.

Code, not the model, keeps what must hold whatever the model says: the reply is cut to
`max_reply_chars`; an opt-out request and a failed tool are handed off; an appointment wish
is the one the tool recorded. API errors that outlast the client's own retries (and its
timeout) become `DraftUnavailable`; nothing a customer texts makes `draft` raise anything
else. The engine sees one conversation and can only answer it: it has no way to text
anyone, and the subscriber's number goes only to the order look-up, never into a prompt.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import anthropic
from anthropic.types import (
    ContentBlockParam,
    Message,
    MessageParam,
    TextBlock,
    TextBlockParam,
    ToolResultBlockParam,
    ToolUseBlock,
)

from bridge.ai.drafter import Draft, DraftUnavailable, TokenUsage, Turn, cap_reply
from bridge.ai.engines import claude_prompt
from bridge.ai.knowledge import KnowledgeBase
from bridge.ai.tools import ToolFailed, Tools
from bridge.config import DEFAULT_AI_MODEL

NO_TOOLS = Tools()
APPOINTMENT_RECORDED = "Recorded; a person will confirm it."
CUT_CONFIDENCE = 0.9  # a reply cut to fit says less than the model meant
OPT_OUT_REASON = "the customer asks to stop receiving texts"


@dataclass
class _ToolEffects:
    """What the tools of one draft did that the final draft must reflect."""

    wish: str | None = None
    failure: str | None = None


class ClaudeDrafter:
    """Drafts with Claude through the Messages API (see the module docstring).

    `client` carries the retry budget and the timeout (`max_retries=2`, `timeout=20` from
    `from_env`); `on_usage` hears the token counts of every API response."""

    def __init__(
        self,
        client: anthropic.AsyncAnthropic,
        *,
        model: str,
        tools: Tools = NO_TOOLS,
        max_reply_chars: int = 320,
        max_output_tokens: int = 800,
        on_usage: Callable[[TokenUsage], None] | None = None,
        max_tool_rounds: int = 2,
    ) -> None:
        self._client = client
        self._model = model
        self._tools = tools
        self._max_reply_chars = max_reply_chars
        self._max_output_tokens = max_output_tokens
        self._on_usage = on_usage
        self._max_tool_rounds = max_tool_rounds
        self._tool_definitions = claude_prompt.tool_definitions(tools)
        self._output_config = claude_prompt.output_config()

    @classmethod
    def from_env(cls, **kwargs: Any) -> ClaudeDrafter:
        """A drafter whose client reads `ANTHROPIC_API_KEY` and `ANTHROPIC_BASE_URL`; the
        model is `ANTHROPIC_MODEL` or `claude-haiku-4-5`. `kwargs` go to the constructor."""
        model = kwargs.pop("model", None) or os.environ.get("ANTHROPIC_MODEL") or DEFAULT_AI_MODEL
        client = anthropic.AsyncAnthropic(max_retries=2, timeout=20.0)
        return cls(client, model=model, **kwargs)

    @property
    def name(self) -> str:
        return f"claude:{self._model}"

    async def draft(
        self,
        conversation_text: Sequence[Turn],
        *,
        knowledge: KnowledgeBase,
        now: datetime | None = None,
        subscriber: str = "",
    ) -> Draft:
        profile = knowledge.profile
        system = claude_prompt.system_blocks(knowledge, max_reply_chars=self._max_reply_chars)
        messages = claude_prompt.build_messages(
            conversation_text,
            now=now or datetime.now(UTC),
            timezone=profile.timezone if profile is not None else "UTC",
        )
        effects = _ToolEffects()
        rounds = 0
        invalid = 0
        while True:
            response = await self._create(system, messages)
            if response.stop_reason == "tool_use":
                if rounds == self._max_tool_rounds:
                    raise DraftUnavailable(f"Claude still asked for tools after {rounds} rounds")
                rounds += 1
                results = [
                    await self._use(block, subscriber, effects)
                    for block in response.content
                    if isinstance(block, ToolUseBlock)
                ]
                messages += [
                    {"role": "assistant", "content": _replayable(response)},
                    {"role": "user", "content": results},
                ]
                continue
            try:
                return self._checked(_parse(response), effects)
            except ValueError:
                invalid += 1
                if invalid == 2:
                    raise DraftUnavailable("Claude twice answered without a valid draft") from None

    async def _create(self, system: list[TextBlockParam], messages: list[MessageParam]) -> Message:
        try:
            response = await self._client.messages.create(
                model=self._model,
                max_tokens=self._max_output_tokens,
                system=system,
                messages=messages,
                tools=self._tool_definitions or anthropic.omit,
                output_config=self._output_config,
            )
        except anthropic.AnthropicError as exc:
            raise DraftUnavailable(_why_unavailable(exc)) from exc
        if self._on_usage is not None:
            usage = response.usage
            self._on_usage(
                TokenUsage(
                    input_tokens=usage.input_tokens,
                    output_tokens=usage.output_tokens,
                    cache_read_input_tokens=usage.cache_read_input_tokens or 0,
                    cache_creation_input_tokens=usage.cache_creation_input_tokens or 0,
                )
            )
        return response

    async def _use(
        self, block: ToolUseBlock, subscriber: str, effects: _ToolEffects
    ) -> ToolResultBlockParam:
        orders = self._tools.orders
        if block.name == claude_prompt.ORDER_STATUS and orders is not None:
            number = _text_input(block, "order_number")
            if number is None:
                return _result(block, "order_number is missing", error=True)
            try:
                status = await orders.lookup(number, phone=subscriber)
            except ToolFailed as exc:
                effects.failure = f"order look-up failed: {exc}"
                return _result(block, f"{exc}. Hand this text off to a person.", error=True)
            return _result(block, status.summary())
        if block.name == claude_prompt.REQUEST_APPOINTMENT and self._tools.appointments:
            wish = _text_input(block, "wish")
            if wish is None:
                return _result(block, "wish is missing", error=True)
            effects.wish = wish
            return _result(block, APPOINTMENT_RECORDED)
        return _result(block, f"there is no tool named {block.name!r}", error=True)

    def _checked(self, draft: Draft, effects: _ToolEffects) -> Draft:
        fields = draft.model_dump()
        if draft.reply is not None:
            reply, cut = cap_reply(draft.reply, self._max_reply_chars)
            if cut:
                fields |= {
                    "reply": reply,
                    "confidence": round(draft.confidence * CUT_CONFIDENCE, 3),
                }
        if effects.wish is not None:
            fields["appointment"] = effects.wish
        must_escalate = OPT_OUT_REASON if draft.intent == "opt_out_request" else effects.failure
        if must_escalate is not None and not draft.escalate:
            fields |= {"escalate": True, "reason": draft.reason or must_escalate}
        return Draft.model_validate(fields)


def _parse(response: Message) -> Draft:
    """The draft in the answer's last text block. ValueError (pydantic's ValidationError is
    one) when there is none."""
    texts = [block.text for block in response.content if isinstance(block, TextBlock)]
    if not texts:
        raise ValueError("no text in the answer")
    return Draft.model_validate_json(texts[-1])


def _replayable(response: Message) -> list[ContentBlockParam]:
    """The assistant's turn as it must go back with the tool results."""
    blocks: list[ContentBlockParam] = []
    for block in response.content:
        if isinstance(block, TextBlock) and block.text:
            blocks.append({"type": "text", "text": block.text})
        elif isinstance(block, ToolUseBlock):
            blocks.append(
                {"type": "tool_use", "id": block.id, "name": block.name, "input": block.input}
            )
    return blocks


def _text_input(block: ToolUseBlock, key: str) -> str | None:
    value = block.input.get(key)
    if not isinstance(value, str):
        return None
    return value.strip() or None


def _result(block: ToolUseBlock, text: str, *, error: bool = False) -> ToolResultBlockParam:
    return {"type": "tool_result", "tool_use_id": block.id, "content": text, "is_error": error}


def _why_unavailable(exc: anthropic.AnthropicError) -> str:
    """A short reason for the person who answers the text instead."""
    if isinstance(exc, anthropic.APITimeoutError):
        return "Claude did not answer in time"
    if isinstance(exc, anthropic.APIConnectionError):
        return "Claude could not be reached"
    if isinstance(exc, anthropic.RateLimitError):
        return "Claude is rate-limited (HTTP 429)"
    if isinstance(exc, anthropic.AuthenticationError | anthropic.PermissionDeniedError):
        return f"Claude refused the API key (HTTP {exc.status_code})"
    if isinstance(exc, anthropic.InternalServerError):
        return f"Claude is overloaded or down (HTTP {exc.status_code})"
    if isinstance(exc, anthropic.APIStatusError):
        return f"Claude refused the request (HTTP {exc.status_code})"
    return "Claude's answer could not be read"
