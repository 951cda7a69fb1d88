"""The offline engine: the rules first, then the best entry of the knowledge base when it
clearly matches (confidence from coverage and margin), then the business's tools."""

from __future__ import annotations

import asyncio
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from bridge.ai.availability import appointment_times
from bridge.ai.drafter import Draft, Turn, cap_reply
from bridge.ai.knowledge import Entry, KnowledgeBase
from bridge.ai.offline.index import Index, Retrieval, build_index
from bridge.ai.offline.rules import (
    APPOINTMENT_ACK,
    TOOL_HANDOFFS,
    appointment_request,
    order_status_request,
)
from bridge.ai.offline.text import GENERIC_TERMS
from bridge.ai.signals import Signals, asks, read_signals
from bridge.ai.tools import ToolFailed, Tools
from bridge.text import clip

# A question word that the best entry only mentions in its answer counts this much.
ANSWER_ONLY_FACTOR = 0.75
# An entry's question asked as written is at least this clear a match (of 0-1 above the
# thresholds): enough to answer, and for the rules on order look-ups and appointments to
# give way ("Where is my order?" when the base has that very question).
LITERAL_STRENGTH = 0.6


@dataclass(frozen=True)
class OfflineSettings:
    min_coverage: float = 0.6  # share of the question's information the entry must hold
    min_margin: float = 0.15  # 1 - second / best; below it two different answers compete
    min_score: float = 0.0  # BM25 score floor (scores shrink with the base: keep it low)
    similar_answers: float = 0.6  # Jaccard of answer terms above which entries agree
    max_reply_chars: int = 320  # two GSM-7 segments
    context_turns: int = 3  # customer texts since our last reply that form the question
    cached_indexes: int = 4  # knowledge-base versions kept indexed (one per base + reloads)


@dataclass
class OfflineDrafter:
    """The offline engine (no API key needed). Thread-safe; one per process is enough."""

    settings: OfflineSettings = field(default_factory=OfflineSettings)
    tools: Tools = field(default_factory=Tools)
    _indexes: OrderedDict[str, Index] = field(default_factory=OrderedDict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def name(self) -> str:
        return "offline"

    # -- index ---------------------------------------------------------------------------

    def prepare(self, knowledge: KnowledgeBase) -> None:
        """Build the index of this knowledge-base version. Blocking: about 25 ms per 100
        entries, plus ~0.2 s once per process to load the English word list."""
        self._index(knowledge)

    def is_prepared(self, knowledge: KnowledgeBase) -> bool:
        return knowledge.version in self._indexes

    def _index(self, knowledge: KnowledgeBase) -> Index:
        with self._lock:
            index = self._indexes.get(knowledge.version)
            if index is not None:
                self._indexes.move_to_end(knowledge.version)
                return index
        index = build_index(knowledge)
        with self._lock:
            self._indexes[knowledge.version] = index
            while len(self._indexes) > max(1, self.settings.cached_indexes):
                self._indexes.popitem(last=False)
        return index

    # -- retrieval -----------------------------------------------------------------------

    def retrieve(self, question: str, knowledge: KnowledgeBase, k: int = 5) -> Retrieval:
        return self._index(knowledge).search(question, k, self.settings.similar_answers)

    def confidence(self, retrieval: Retrieval) -> float:
        """Coverage and margin folded into 0-1; the answer threshold maps to 0.5."""
        s = self.settings
        best = retrieval.best
        if best is None or best.score <= s.min_score or retrieval.topic_words == 0:
            # nothing but everyday words ("see you tomorrow") matched
            return 0.0
        coverage = retrieval.coverage
        if not retrieval.on_topic and retrieval.topic_words <= 1:
            # one word that the entry only mentions in passing ("oven" in "comes out of
            # the oven at 7:00") is weak evidence that the entry is about the question
            coverage *= ANSWER_ONLY_FACTOR
        cov = (coverage - s.min_coverage) / (1 - s.min_coverage)
        mar = (retrieval.margin - s.min_margin) / (1 - s.min_margin)
        if retrieval.literal:
            # the customer asked an entry's question as written
            cov, mar = max(cov, LITERAL_STRENGTH), max(mar, LITERAL_STRENGTH)
        elif retrieval.off_topic:
            # "my bike was stolen from your rack": the parking entry has "bike" and "rack",
            # but nothing on what is asked (stolen)
            return min(0.45, max(0.0, 0.5 + 0.5 * min(cov, mar)))
        if cov < 0 or mar < 0:
            # below a threshold: 0-0.5 by how far
            return max(0.0, 0.5 + 0.5 * min(cov, mar))
        # above both: 0.5-1, rising fastest at first; the weaker signal counts more
        strength = min(cov, mar) * 0.6 + max(cov, mar) * 0.4
        return 0.5 + 0.5 * (1 - (1 - strength) ** 2)

    # -- drafting ------------------------------------------------------------------------

    async def draft(
        self,
        conversation_text: Sequence[Turn],
        *,
        knowledge: KnowledgeBase,
        now: datetime | None = None,
        subscriber: str = "",
    ) -> Draft:
        if not self.is_prepared(knowledge):
            await asyncio.to_thread(self.prepare, knowledge)
        draft = self.draft_sync(conversation_text, knowledge=knowledge, now=now)
        current, _ = _question_blocks(conversation_text, self.settings.context_turns)
        return await self._use_tools(
            draft, current, subscriber, conversation_text, knowledge, now or datetime.now(UTC)
        )

    async def _use_tools(
        self,
        draft: Draft,
        text: str,
        subscriber: str,
        conversation: Sequence[Turn] = (),
        knowledge: KnowledgeBase | None = None,
        now: datetime | None = None,
    ) -> Draft:
        """Order look-ups and appointment wishes, when the business enabled them: what
        the rules would otherwise hand off only for want of the tool. A hand-off for any
        other reason (safety, a complaint, a request for a person) stays one."""
        handoff = read_signals(text).handoff
        if handoff not in (None, *TOOL_HANDOFFS) and not handoff.startswith("about order #"):
            return draft
        if draft.intent == "order" and self.tools.orders is not None and subscriber:
            number = order_status_request(text)
            if number is not None:
                try:
                    status = await self.tools.orders.lookup(number, phone=subscriber)
                except ToolFailed as exc:
                    return Draft.handoff(
                        f"order #{number}: the look-up failed ({exc})",
                        intent="order",
                        urgency=draft.urgency,
                    )
                return Draft(
                    reply=status.summary(),
                    confidence=0.9 if status.found else 0.6,
                    intent="order",
                    urgency=draft.urgency,
                    escalate=not status.found,
                    reason=None if status.found else f"no order #{number} for this number",
                    sources=["tool:order_status"],
                )
        if self.tools.appointments and self.tools.availability is not None:
            wish = draft.intent == "appointment" and appointment_request(text)
            timed = await appointment_times(
                self.tools, text, conversation, knowledge, now, wish=wish, thanks=APPOINTMENT_ACK
            )
            if timed is not None:  # free times offered, or the customer's pick of them
                return timed
        if draft.intent == "appointment" and self.tools.appointments and appointment_request(text):
            return Draft(
                reply=APPOINTMENT_ACK,
                confidence=0.9,
                intent="appointment",
                urgency=draft.urgency,
                sources=["tool:appointment_request"],
                appointment=cap_reply(text, 200)[0],
            )
        return draft

    def draft_sync(
        self,
        conversation_text: Sequence[Turn],
        *,
        knowledge: KnowledgeBase,
        now: datetime | None = None,
    ) -> Draft:
        """A draft answering the latest customer text; earlier texts only resolve what it
        points back to ("and on Saturday?")."""
        del now  # the hours are in the knowledge base; the offline engine quotes them
        current, earlier = _question_blocks(conversation_text, self.settings.context_turns)
        if not current:
            return Draft(reason="no customer text to answer")
        signals = read_signals(current)
        retrieval = self.retrieve(current, knowledge)
        confidence = self.confidence(retrieval)
        if signals.handoff is not None and not (
            signals.handoff in TOOL_HANDOFFS and retrieval.literal
        ):
            return Draft.handoff(signals.handoff, intent=signals.intent, urgency=signals.urgency)
        if confidence < 0.5 and earlier and _follow_up(current, retrieval):
            joined = self.retrieve(f"{earlier} {current}", knowledge)
            joined_confidence = self.confidence(joined) * 0.95
            if joined_confidence >= 0.5:
                retrieval, confidence = joined, joined_confidence
                if signals.intent in ("support", "other"):
                    signals = read_signals(f"{earlier} {current}")
        parts = _parts(current)
        questions = [p for p in parts if asks(p)] if len(parts) > 1 else parts[:1]
        best = retrieval.best
        if len(questions) >= 2 and not retrieval.literal:
            answers, unanswered = self._by_part(parts, knowledge, several=True)
            if best is not None and confidence >= 0.5 and (not answers or not unanswered):
                # they all point at the entry the whole text clearly matches
                tops = [self.retrieve(q, knowledge).best for q in questions]
                if all(top is not None and top.entry.id == best.entry.id for top in tops):
                    answers, unanswered = [(best.entry, confidence)], []
        elif best is not None and confidence >= 0.5:
            answers, unanswered = [(best.entry, confidence)], []
        else:
            answers, unanswered = self._by_part(parts, knowledge) if len(parts) > 1 else ([], [])
            if len(answers) > 2:
                answers = []
        if (answers and unanswered) or (not answers and len(questions) >= 2):
            # name the questions a person must answer (one alone: the reason says why)
            return self._partly(answers, unanswered or questions, signals, confidence)
        if not answers:
            if signals.acknowledgement:
                return Draft(
                    intent=signals.intent,
                    urgency=signals.urgency,
                    reason="nothing to answer (a greeting or thanks)",
                )
            return Draft.handoff(
                _why_not(retrieval, self.settings),
                intent=signals.intent,
                urgency=signals.urgency,
                confidence=round(confidence, 3),
            )
        text = " ".join(entry.answer for entry, _ in answers)
        limit = self.settings.max_reply_chars
        if len(answers) > 1 and len(text) > limit:
            return Draft.handoff(
                "several questions; the answers are too long for one text: "
                + ", ".join(_quote(entry.title) for entry, _ in answers),
                intent=signals.intent,
                urgency=signals.urgency,
                confidence=round(min(c for _, c in answers), 3),
            )
        reply, cut = cap_reply(text, limit)
        confidence = min(c for _, c in answers) * (0.9 if cut else 1.0)
        return Draft(
            reply=reply,
            confidence=round(confidence, 3),
            intent=signals.intent,
            urgency=signals.urgency,
            escalate=False,
            reason=None,
            sources=[entry.id for entry, _ in answers],
        )

    def _by_part(
        self, parts: Sequence[str], knowledge: KnowledgeBase, *, several: bool = False
    ) -> tuple[list[tuple[Entry, float]], list[str]]:
        """(the entries answering parts of a text, the questions among them that nothing
        answers clearly). Each sentence or question is matched on its own; a statement that
        matches nothing is context ("need to put it in my GPS")."""
        found: list[tuple[Entry, float]] = []
        unanswered: list[str] = []
        previous = ""
        for part in parts:
            retrieval = self.retrieve(part, knowledge)
            confidence = self.confidence(retrieval) * SENTENCE_FACTOR
            if confidence < 0.5 and previous and _follow_up(part, retrieval):
                # "how much is a tune-up and how long does *it* take?"
                joined = self.retrieve(f"{previous} {part}", knowledge)
                if joined.best is not None and all(joined.best.entry.id != e.id for e, _ in found):
                    retrieval, confidence = joined, self.confidence(joined) * SENTENCE_FACTOR
            previous = part
            best = retrieval.best
            if best is not None and confidence >= 0.5:
                if all(best.entry.id != entry.id for entry, _ in found):
                    found.append((best.entry, confidence))
                continue
            words = (*retrieval.terms, *retrieval.missing)
            # among several questions, even one of everyday words ("how long does it
            # take?") is one the customer asked
            topical = any(t not in GENERIC_TERMS for t in words) or (several and words)
            if topical and asks(part):
                unanswered.append(part)
        return found, unanswered

    def _partly(
        self,
        answers: Sequence[tuple[Entry, float]],
        unanswered: Sequence[str],
        signals: Signals,
        confidence: float,
    ) -> Draft:
        """Several questions, not all answered: a hand-off naming the ones a person must
        answer, with the answers to the others as a reply to check first."""
        questions = ", ".join(_quote(q) for q in unanswered[:3])
        reason = f"no answer in the knowledge base to {questions}"
        if not answers:
            return Draft.handoff(
                reason,
                intent=signals.intent,
                urgency=signals.urgency,
                confidence=round(min(confidence, 0.49), 3),
            )
        reply, _ = cap_reply(" ".join(entry.answer for entry, _ in answers), MAX_PART_CHARS)
        return Draft(
            reply=reply,
            escalate=True,
            reason=f"{reason}; the reply answers the rest",
            intent=signals.intent,
            urgency=signals.urgency,
            confidence=round(min(c for _, c in answers) * 0.5, 3),
            sources=[entry.id for entry, _ in answers],
        )


SENTENCE_FACTOR = 0.95  # a sentence matched alone is a little less certain
MAX_PART_CHARS = 240  # the answered part of a reply, room left for the agent's own words


def _quote(text: str) -> str:
    return f"“{clip(text.strip(), 80)}”"


def _parts(text: str) -> list[str]:
    """The sentences of a text, and the questions joined in one ("r u open monday? also do
    u take apple pay", "how much is it and how long does it take")."""
    parts: list[str] = []
    for sentence in _SENTENCE_END.split(text):
        for part in _JOINED_QUESTION.split(sentence or ""):
            part = _LEADING_JOIN.sub("", part).strip()
            if part:
                parts.append(part)
    return parts


_SENTENCE_END = re.compile(r"(?<=[?!.])\s+|\n+|(?<=\?)(?=\w)")
_JOINED_QUESTION = re.compile(
    r"[,;]?\s+(?:and also|also|plus|and)\s+(?=(?:how|what|whats|when|where|which|who|do|does|"
    r"can|could|is|are|will|r u|u|any)\b)",
    re.I,
)


_LEADING_JOIN = re.compile(r"^\W*(?:and also|oh and|and|also|plus|but)\s+", re.I)


def _question_blocks(conversation: Sequence[Turn], limit: int) -> tuple[str, str]:
    """(the customer's latest text, the customer's texts before it): the latest is the one
    to answer, the earlier ones only say what it refers to. Empty when we spoke last."""
    if not conversation or conversation[-1][0] != "customer":
        return "", ""
    earlier = [text.strip() for role, text in conversation[:-1] if role == "customer"][-limit:]
    return conversation[-1][1].strip()[-600:], " ".join(earlier)[-600:]


_FOLLOW_UP = re.compile(
    r"^\W*(and|also|what about|how about|and what about|ok|okay|so|but|then|what if|is it|"
    r"does it|do they|is that|how much|when|where)\b|\b(it|that|them|those|this|there)\b",
    re.I,
)


def _follow_up(text: str, retrieval: Retrieval) -> bool:
    """Short texts or texts that point back ("how much does it cost?") lean on the last
    question."""
    return len(retrieval.terms) <= 2 or bool(_FOLLOW_UP.search(text))


def _why_not(retrieval: Retrieval, settings: OfflineSettings) -> str:
    """Why a person must answer, in the customer's words (never the engine's stems)."""
    best = retrieval.best
    unknown = _quoted(retrieval.unknown_words)
    if best is None:
        return f"nothing in the knowledge base about {unknown}" if unknown else NOTHING_ON_THIS
    closest = f"the closest entry, {_quote(best.entry.title)}"
    if retrieval.off_topic:
        about = _quoted(retrieval.off_topic)
        return f"nothing in the knowledge base about {about}; {closest}, is about something else"
    if retrieval.coverage < settings.min_coverage and unknown:
        return f"nothing in the knowledge base about {unknown} ({closest}, does not say)"
    if retrieval.coverage < settings.min_coverage and retrieval.missing_words:
        return f"{closest}, does not cover {_quoted(retrieval.missing_words)}"
    if retrieval.rival is not None and retrieval.margin < settings.min_margin:
        rival = _quote(retrieval.rival.entry.title)
        return f"two entries could answer it: {_quote(best.entry.title)} and {rival}"
    return f"no clear answer in the knowledge base ({closest}, is not a clear match)"


def _quoted(words: Sequence[str]) -> str:
    """The first three words worth naming (not a stray letter of markup or a typo)."""
    return ", ".join(_quote(w) for w in list(dict.fromkeys(w for w in words if len(w) > 1))[:3])


NOTHING_ON_THIS = "nothing in the knowledge base on this"
