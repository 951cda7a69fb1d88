"""The assistant's part in a conversation: a draft for each inbound text, and in
auto-reply mode the decision to send it (what happens to a draft after is in
`draft_decisions`).

Timing: the job that posts a text asks `draft_for_post`, which waits until at most
`ai.draft_wait_seconds` after the text arrived, so text and draft share one Slack
message. A slower draft keeps running in this process; a POST_DRAFT job (its own lane,
so later texts are not held up) posts it once ready, polling without holding a worker.
After a crash or on another process, that job drafts anew once the original draft
would have timed out.

Safety, whatever the engine: the prompt holds only this conversation's texts, up to the
one answered; a conversation whose texts try to instruct the assistant is drafted but
never answered by the assistant; replies are capped in length; Claude is used only
within the daily token budget; a draft never takes longer than DRAFT_TIMEOUT_SECONDS.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

import structlog

from bridge.ai.auto_reply import hold_reason, on_duty
from bridge.ai.budget import TokenBudget
from bridge.ai.draft_decisions import DraftDecisions
from bridge.ai.drafter import Draft, Drafter, DraftUnavailable, Turn, cap_reply
from bridge.ai.knowledge import KnowledgeSource
from bridge.ai.offline import OfflineDrafter
from bridge.ai.signals import instructs_assistant, read_signals
from bridge.config import AiSection, Business
from bridge.delivery.errors import RetryLater
from bridge.jobs import appointment_job, draft_job
from bridge.metrics import Metrics
from bridge.models import (
    ASSISTANT,
    Conversation,
    DeliveryStatus,
    Direction,
    DraftState,
    KeywordMark,
    Message,
    MessageDraft,
    utcnow,
)
from bridge.store.base import AwayStore, ConversationStore, DraftStore, JobStore, MessageStore
from bridge.threading.conversation_desk import ConversationDesk
from bridge.threading.opening_hours import opening


class _Store(ConversationStore, MessageStore, DraftStore, JobStore, AwayStore, Protocol):
    """The store roles this module uses."""


log = structlog.get_logger(__name__)

# The longest a draft may take (Claude's retries and tool rounds included); then "No AI
# draft". It also tells another process when a draft's own process must have given up.
DRAFT_TIMEOUT_SECONDS = 45.0
BACKLOG_WAIT_SECONDS = 0.5

# What a business message in the prompt may be: texts that went (or are going) out.
_SENT = {
    DeliveryStatus.QUEUED,
    DeliveryStatus.SENDING,
    DeliveryStatus.SENT,
    DeliveryStatus.DELIVERED,
}


def drafts(ai: AiSection, message: Message) -> bool:
    """Whether the assistant drafts an answer to `message` (a draft will come)."""
    return (
        ai.enabled
        and message.direction is Direction.INBOUND
        and (message.keyword is None or message.keyword is KeywordMark.MAYBE_OPT_OUT)
        and bool(message.body.strip())
    )


@dataclass(frozen=True)
class Engines:
    """`primary` drafts; `fallback` (the offline engine) drafts when the primary is
    Claude and the day's budget is spent. With no API key both are the offline engine."""

    primary: Drafter
    fallback: OfflineDrafter
    budget: TokenBudget | None = None  # None: the primary costs nothing


def turns_of(messages: Sequence[Message], answered: Message) -> list[Turn]:
    """The texts of a conversation as the engines see them: the customer's (keywords
    left out) and what the business sent."""
    turns: list[Turn] = []
    for item in messages:
        if not item.body.strip():
            continue
        if item.direction is Direction.INBOUND:
            if item.keyword is None or not item.keyword.replaces_post:
                turns.append(("customer", item.body))
        elif item.status in _SENT:
            turns.append(("business", item.body))
    if not turns or turns[-1] != ("customer", answered.body):
        turns.append(("customer", answered.body))  # the store may lag a fresh text
    return turns


class DraftDesk:
    def __init__(
        self,
        store: _Store,
        engines: Engines,
        knowledge: KnowledgeSource,
        decisions: DraftDecisions,
        desk: ConversationDesk,
        *,
        ai: AiSection,
        business: Business,
        metrics: Metrics,
        on_enqueued: Callable[[], None],
        appointment_webhook: bool = False,
    ) -> None:
        self._store = store
        self._engines = engines
        self._knowledge = knowledge
        self._decisions = decisions
        self._desk = desk
        self._ai = ai
        self._business = business
        self._metrics = metrics
        self._on_enqueued = on_enqueued
        self._appointment_webhook = appointment_webhook
        self._running: dict[str, asyncio.Task[Message]] = {}
        self._posting: set[asyncio.Future[None]] = set()  # enqueues of ready late drafts

    # --- drafting -----------------------------------------------------------------------

    def wants_draft(self, message: Message) -> bool:
        return drafts(self._ai, message)

    async def draft_for_post(self, message: Message, conversation: Conversation) -> Message:
        """The message with its draft if that is ready by `draft_wait_seconds` after the
        text arrived; otherwise the message as it is (then `follow` it)."""
        if not self.wants_draft(message):
            return message
        if message.draft is not None:
            return await self._decisions.resume(message)
        task = self._task(message, conversation)
        wait = self._ai.draft_wait_seconds
        waited = (utcnow() - message.created_at).total_seconds()
        # A text from a backlog has waited already, but a quick engine still gets a moment:
        # two Slack posts per text are worst when Slack is the backlog. (Not wait_for: on
        # Python 3.11 it swallows the outbox's stop if the draft is done at that moment.)
        try:
            async with asyncio.timeout(max(wait - waited, min(wait, BACKLOG_WAIT_SECONDS))):
                return await asyncio.shield(task)
        except TimeoutError:
            self._metrics.drafts.labels(self._engine()[0].name, "late").inc()
            return message

    async def follow(self, message: Message) -> None:
        """After its text is posted without its draft: a POST_DRAFT job posts the draft
        as soon as it is ready, and a check job later in case this process dies first.
        (The jobs do nothing for a draft already shown.)"""
        if not self.wants_draft(message):
            return
        task = self._running.get(message.id)
        if task is None or task.done():
            await self._store.enqueue(draft_job(message), run_at=utcnow())
        else:
            self._post_when_done(task, message)
            await self._store.enqueue(
                draft_job(message, check=True), run_at=self._given_up_at(message)
            )
        self._on_enqueued()

    async def draft_late(self, message: Message) -> Message:
        """For POST_DRAFT: the message with its draft if it is ready. If it is still
        being drafted here, the message as it is: the job runs again when it is ready."""
        if not self.wants_draft(message):
            return message
        if message.draft is not None:
            return await self._decisions.resume(message)
        task = self._running.get(message.id)
        if task is None:
            wait = (self._given_up_at(message) - utcnow()).total_seconds()
            if wait > 0:  # it may be drafting on another process, whose job posts it
                raise RetryLater("drafted elsewhere, maybe", after=wait, throttled=True)
            conversation = await self._store.get_conversation(message.conversation_id)
            if conversation is None:
                return message
            task = self._task(message, conversation)  # its drafter is gone: draft anew
        if task.done():
            return task.result()
        self._post_when_done(task, message)
        return message

    def _given_up_at(self, message: Message) -> datetime:
        """When a draft of `message` begun anywhere has certainly ended."""
        return message.created_at + timedelta(seconds=DRAFT_TIMEOUT_SECONDS + 5)

    def _post_when_done(self, task: asyncio.Task[Message], message: Message) -> None:
        def enqueue(_done: asyncio.Task[Message]) -> None:
            posting = asyncio.ensure_future(
                self._store.enqueue(draft_job(message), run_at=utcnow())
            )
            self._posting.add(posting)
            posting.add_done_callback(self._posted)

        task.add_done_callback(enqueue)

    def _posted(self, posting: asyncio.Future[None]) -> None:
        self._posting.discard(posting)
        if not posting.cancelled() and posting.exception() is None:
            self._on_enqueued()  # else the check job posts it later

    async def close(self) -> None:
        """Stop drafts still running (their POST_DRAFT jobs draft anew after a restart)."""
        tasks = list(self._running.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.gather(*self._posting, return_exceptions=True)

    def _task(self, message: Message, conversation: Conversation) -> asyncio.Task[Message]:
        task = self._running.get(message.id)
        if task is None:
            task = asyncio.create_task(
                self._produce(message, conversation), name=f"draft:{message.id}"
            )
            self._running[message.id] = task
            task.add_done_callback(lambda _t: self._running.pop(message.id, None))
        return task

    async def _produce(self, message: Message, conversation: Conversation) -> Message:
        """Draft and store the draft. Whatever goes wrong becomes "No AI draft: …"."""
        engine, note = self._engine()
        try:
            async with asyncio.timeout(DRAFT_TIMEOUT_SECONDS):
                return await self._draft(message, conversation, engine, note)
        except DraftUnavailable as exc:
            reason = str(exc)
        except TimeoutError:
            reason = f"no answer within {DRAFT_TIMEOUT_SECONDS:.0f} s"
        except Exception:
            log.exception("drafting failed", message=message.id)
            reason = "an internal error (see the logs)"
        await self._settle_budget(engine)
        log.warning("no draft", engine=engine.name, reason=reason)
        self._metrics.drafts.labels(engine.name, "unavailable").inc()
        signals = read_signals(message.body)
        unavailable = MessageDraft(
            reply=None,
            confidence=0.0,
            escalate=False,
            engine=engine.name,
            note=f"No AI draft: {reason}",
            state=DraftState.UNAVAILABLE,
        )
        saved = await self._store.save_draft(
            message.id, unavailable, intent=signals.intent, urgency=signals.urgency
        )
        return saved or message

    async def _draft(
        self, message: Message, conversation: Conversation, engine: Drafter, note: str | None
    ) -> Message:
        recent = await self._store.recent_messages(
            message.conversation_id, limit=self._ai.context_messages, until=message.created_at
        )
        turns = turns_of(recent, message)[-self._ai.context_messages :]
        started = time.perf_counter()
        draft = await engine.draft(
            turns,
            knowledge=self._knowledge.current,
            now=utcnow(),
            subscriber=conversation.subscriber,
        )
        self._metrics.draft_seconds.labels(engine.name).observe(time.perf_counter() - started)
        await self._settle_budget(engine)
        draft = self._made_safe(draft, turns)
        outcome = "reply" if draft.reply else ("handoff" if draft.escalate else "none")
        self._metrics.drafts.labels(engine.name, outcome).inc()
        return await self._settle_new(message, conversation, draft, engine, note, recent)

    async def _settle_budget(self, engine: Drafter) -> None:
        """Count what a Claude draft cost (the offline engine costs nothing)."""
        if self._engines.budget is not None and engine is self._engines.primary:
            await self._engines.budget.settle()

    def _engine(self) -> tuple[Drafter, str | None]:
        budget = self._engines.budget
        if budget is not None and budget.exhausted():
            return self._engines.fallback, "The daily AI budget is spent: an offline draft."
        return self._engines.primary, None

    def _made_safe(self, draft: Draft, turns: Sequence[Turn]) -> Draft:
        update: dict[str, object] = {}
        if draft.reply is not None and len(draft.reply) > self._ai.max_reply_chars:
            update["reply"] = cap_reply(draft.reply, self._ai.max_reply_chars)[0]
        instructed = any(role == "customer" and instructs_assistant(t) for role, t in turns)
        if instructed and not draft.escalate:
            update["escalate"] = True
            update["reason"] = "the texts give the assistant instructions; answer yourself"
        if draft.intent == "opt_out_request" and not draft.escalate:
            update["escalate"] = True
            update["reason"] = "asks to stop getting texts: confirm the opt-out is recorded"
        return draft.model_copy(update=update) if update else draft

    async def _settle_new(
        self,
        message: Message,
        conversation: Conversation,
        draft: Draft,
        engine: Drafter,
        note: str | None,
        earlier: Sequence[Message],
    ) -> Message:
        """Store the draft (the first one stored wins); in auto-reply mode the assistant
        claims it (AUTO_SENT) in that same write, then sends it. `earlier`: the texts
        before, whose unsent drafts it replaces."""
        state = DraftState.PROPOSED if draft.reply else DraftState.HANDOFF
        policy = self._ai.auto_reply_for(conversation.business_number)
        now = utcnow()
        hours = opening(self._business, conversation.business_number, now, await self._store.away())
        on_call = on_duty(policy, open_now=hours.open)
        if state is DraftState.PROPOSED and on_call:  # off duty, people answer: no note
            recent = await self._store.recent_messages(conversation.id, limit=10)
            held = hold_reason(
                policy, draft, message=message, open_now=hours.open, now=now, recent=recent
            )
            if held is None:
                state = DraftState.AUTO_SENT
            else:
                note = f"Not sent automatically: {held}."
                self._metrics.auto_replies.labels("held").inc()
        auto = state is DraftState.AUTO_SENT
        stored = MessageDraft(
            reply=draft.reply,
            confidence=draft.confidence,
            escalate=draft.escalate,
            reason=draft.reason,
            sources=tuple(draft.sources),
            appointment=draft.appointment,
            engine=engine.name,
            note=note,
            state=state,
            settled_by=ASSISTANT if auto else None,
            settled_at=utcnow() if auto else None,
        )
        saved = await self._store.save_draft(
            message.id, stored, intent=draft.intent, urgency=draft.urgency
        )
        if saved is None or saved.draft != stored:
            return saved or message  # another run's draft was stored first
        await self._decisions.supersede(earlier, by=saved)
        if auto:
            saved = await self._decisions.auto_send(saved, conversation)
        # With the assistant answering, a person learns of what needs them by the flag.
        needs_person = draft.reason if draft.escalate else None
        if draft.appointment:
            needs_person = f"appointment request: {draft.appointment}"
        if on_call and needs_person is not None and not conversation.flagged:
            await self._desk.flag(conversation, by=ASSISTANT, reason=needs_person)
        if draft.appointment and self._appointment_webhook:
            await self._store.enqueue(appointment_job(message), run_at=utcnow())
            self._on_enqueued()
        return saved
