"""What every drafting engine returns (`Draft`) and the interface it implements (`Drafter`).

An engine sees only the recent texts of one conversation and the business's knowledge
base (which holds the business profile): no other customer's data can reach it. The
customer's texts are data, never instructions.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bridge.ai.knowledge import KnowledgeBase
from bridge.models import Intent, Urgency

Role = Literal["customer", "business"]
Turn = tuple[Role, str]
"""One text of the conversation: who wrote it (the customer, or the business: an agent or
the assistant) and its plain text."""


class Draft(BaseModel):
    """A proposed reply to the customer's latest text, or a hand-off to a person.

    - `reply`: the SMS to propose; None when there is nothing to send (a hand-off, or a
      text that needs no answer such as "thanks").
    - `confidence`: 0-1, how sure the engine is that `reply` answers correctly.
    - `escalate`: a person must look (then `reason` says why); an escalated draft is never
      sent automatically, even if it has a reply.
    - `sources`: ids of the knowledge-base entries the reply is based on.
    - `appointment`: the customer's appointment wish in their words ("move to Friday
      3pm"), when they ask to book, move or cancel one; a person confirms it.

    Also the output schema for a structured-output engine (`Draft.model_json_schema()`).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    reply: str | None = None
    confidence: float = Field(default=0.0, ge=0.0, le=1.0)
    intent: Intent = "other"
    urgency: Urgency = "normal"
    escalate: bool = False
    reason: str | None = None
    sources: list[str] = Field(default_factory=list)
    appointment: str | None = None

    @field_validator("reply", "reason", "appointment")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip()
        return value or None

    @model_validator(mode="before")
    @classmethod
    def _explained(cls, data: Any) -> Any:
        if (
            isinstance(data, dict)
            and data.get("escalate")
            and not (data.get("reason") or "").strip()
        ):
            return {**data, "reason": "the assistant asks for a person"}
        return data

    @property
    def sendable(self) -> bool:
        """A reply that auto-reply mode may send (subject to its confidence threshold)."""
        return self.reply is not None and not self.escalate

    @classmethod
    def handoff(
        cls,
        reason: str,
        *,
        intent: Intent = "other",
        urgency: Urgency = "normal",
        confidence: float = 0.0,
        **extra: Any,
    ) -> Draft:
        return cls(
            reply=None,
            escalate=True,
            reason=reason,
            intent=intent,
            urgency=urgency,
            confidence=confidence,
            **extra,
        )


@dataclass(frozen=True)
class TokenUsage:
    """What one engine call cost, as the provider reported it."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_input_tokens: int = 0
    cache_creation_input_tokens: int = 0


class DraftUnavailable(Exception):
    """The engine could not draft (API errors or timeouts past its retry budget). The
    caller posts the text without a draft and may add a note with this message."""


@runtime_checkable
class Drafter(Protocol):
    """A drafting engine. `draft` must not block the event loop, must not raise for
    anything a customer can type, and raises `DraftUnavailable` when it cannot answer."""

    @property
    def name(self) -> str:
        """For metrics and labels: "offline", "claude:<model>"."""
        ...

    async def draft(
        self,
        conversation_text: Sequence[Turn],
        *,
        knowledge: KnowledgeBase,
        now: datetime | None = None,
        subscriber: str = "",
    ) -> Draft:
        """Draft an answer to the latest customer text.

        `conversation_text`: the recent texts of this one conversation, oldest first; the
        last one is normally the customer's. `knowledge`: the current knowledge base,
        with the business profile in `knowledge.profile`. `now`: the current time (aware;
        engines may use it with the profile's hours for "are you open now?").
        `subscriber`: the customer's phone number, for tools that look up their own
        orders; it never enters a prompt."""
        ...


_SENTENCE_END = re.compile(r"[.!?](?=\s)")
_PARTIAL_WORD = re.compile(r"\s+\S*$")


def cap_reply(text: str, limit: int) -> tuple[str, bool]:
    """`text` in at most `limit` characters, and whether it was cut.

    Whole sentences when they fill at least half the limit; otherwise whole words and "…"
    (smart encoding, on by default, sends it as "...")."""
    text = text.strip()
    if len(text) <= limit:
        return text, False
    ends = [m.end() for m in _SENTENCE_END.finditer(text, 0, limit + 1)]
    if ends and ends[-1] >= limit // 2:
        return text[: ends[-1]], True
    head = text[: limit - 1]
    if not text[limit - 1].isspace() and re.search(r"\s", head):
        head = _PARTIAL_WORD.sub("", head)
    return head.rstrip(" ,;:-") + "…", True
