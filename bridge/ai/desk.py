"""The assistant's part in a conversation: drafts an answer to each inbound text, lets an
agent send or discard it, and in auto-reply mode sends it itself.

Timing: the job that posts a text asks `draft_for_post`, which waits at most
`ai.draft_wait_seconds` for the draft, so text and draft share one Slack message. A slower
draft keeps running; a POST_DRAFT job (in its own lane, so later texts are not held up)
posts it as its own message when it is ready, also after a restart (it then drafts anew).

Safety, whatever the engine: the prompt holds only this conversation's texts; a text that
tries to instruct the assistant is drafted but never sent by the assistant; replies are
capped in length; Claude is used only within the daily token budget.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

import structlog

from bridge.ai.auto_reply import hold_reason
from bridge.ai.budget import TokenBudget
from bridge.ai.drafter import Draft, Drafter, DraftUnavailable, Turn, cap_reply
from bridge.ai.knowledge import KnowledgeSource
from bridge.ai.offline import OfflineDrafter, instructs_assistant, read_signals
from bridge.config import AiSection, Business
from bridge.metrics import Metrics
from bridge.models import (
    ASSISTANT,
    DeliveryStatus,
    Direction,
    DraftState,
    JobKind,
    KeywordMark,
    Message,
    MessageDraft,
    NewJob,
    ai_lane,
    draft_card_job,
    draft_job,
    utcnow,
)
from bridge.mrkdwn import mention
from bridge.store.base import Store
from bridge.threading.lifecycle import ConversationDesk
from bridge.threading.outbound import OutboundPipeline

log = structlog.get_logger(__name__)

# What a business message in the prompt may be: texts that went (or are going) out.
_SENT = {
    DeliveryStatus.QUEUED,
    DeliveryStatus.SENDING,
    DeliveryStatus.SENT,
    DeliveryStatus.DELIVERED,
}


@dataclass(frozen=True)
class Engines:
    """`primary` drafts; `fallback` (the offline engine) drafts when the primary is
    Claude and the day's budget is spent. With no API key both are the offline engine."""

    primary: Drafter
    fallback: OfflineDrafter
    budget: TokenBudget | None = None  # None: the primary costs nothing


class DraftDesk:
    def __init__(
        self,
        store: Store,
        engines: Engines,
        knowledge: KnowledgeSource,
        replies: OutboundPipeline,
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
        self._replies = replies
        self._desk = desk
        self._ai = ai
        self._business = business
        self._metrics = metrics
        self._on_enqueued = on_enqueued
        self._appointment_webhook = appointment_webhook
        self._running: dict[str, asyncio.Task[Message]] = {}

    # --- drafting -----------------------------------------------------------------------

    def wants_draft(self, message: Message) -> bool:
        return (
            self._ai.enabled
            and message.direction is Direction.INBOUND
            and (message.keyword is None or message.keyword is KeywordMark.MAYBE_OPT_OUT)
            and bool(message.body.strip())
        )

    async def draft_for_post(self, message: Message) -> Message:
        """The message with its draft if that is ready within the wait; otherwise the
        message as it is, with the draft handed to a POST_DRAFT job."""
        if message.draft is not None or not self.wants_draft(message):
            return message
        task = self._task(message)
        try:
            return await asyncio.wait_for(asyncio.shield(task), self._ai.draft_wait_seconds)
        except TimeoutError:
            await self._store.enqueue(draft_job(message), run_at=utcnow())
            self._on_enqueued()
            self._metrics.drafts.labels(self._engines.primary.name, "late").inc()
            return message
        except Exception:
            # A drafting bug must never hold up the text: post it without a draft.
            log.exception("drafting failed", message=message.id)
            self._metrics.drafts.labels(self._engines.primary.name, "error").inc()
            return message

    async def draft_late(self, message: Message) -> Message:
        """For the POST_DRAFT job: the draft still running for this text, or a new one."""
        if message.draft is not None or not self.wants_draft(message):
            return message
        return await asyncio.shield(self._task(message))

    async def close(self) -> None:
        """Stop drafts still running (their POST_DRAFT jobs draft anew after a restart)."""
        tasks = list(self._running.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _task(self, message: Message) -> asyncio.Task[Message]:
        task = self._running.get(message.id)
        if task is None:
            task = asyncio.create_task(self._produce(message), name=f"draft:{message.id}")
            self._running[message.id] = task
            task.add_done_callback(lambda _t: self._running.pop(message.id, None))
        return task

    async def _produce(self, message: Message) -> Message:
        conversation = await self._store.get_conversation(message.conversation_id)
        if conversation is None:
            return message
        turns = await self._context(message)
        engine, note = self._engine()
        started = time.perf_counter()
        try:
            draft = await engine.draft(
                turns,
                knowledge=self._knowledge.current,
                now=utcnow(),
                subscriber=conversation.subscriber,
            )
        except DraftUnavailable as exc:
            await self._settle_budget(engine)
            log.warning("draft unavailable", engine=engine.name, reason=str(exc))
            self._metrics.drafts.labels(engine.name, "unavailable").inc()
            signals = read_signals(message.body)
            unavailable = MessageDraft(
                reply=None,
                confidence=0.0,
                escalate=False,
                engine=engine.name,
                note=f"No AI draft: {exc}",
                state=DraftState.UNAVAILABLE,
            )
            saved = await self._store.save_draft(
                message.id, unavailable, intent=signals.intent, urgency=signals.urgency
            )
            return saved or message
        self._metrics.draft_seconds.labels(engine.name).observe(time.perf_counter() - started)
        await self._settle_budget(engine)
        draft = self._made_safe(draft, message.body)
        outcome = "reply" if draft.reply else ("handoff" if draft.escalate else "none")
        self._metrics.drafts.labels(engine.name, outcome).inc()
        return await self._settle_new(message, conversation.business_number, draft, engine, note)

    async def _settle_budget(self, engine: Drafter) -> None:
        """Count what a Claude draft cost (the offline engine costs nothing)."""
        if self._engines.budget is not None and engine is self._engines.primary:
            await self._engines.budget.settle()

    def _engine(self) -> tuple[Drafter, str | None]:
        budget = self._engines.budget
        if budget is not None and budget.exhausted():
            return self._engines.fallback, "The daily AI budget is spent: an offline draft."
        return self._engines.primary, None

    async def _context(self, message: Message) -> list[Turn]:
        """This conversation's texts up to `message`, oldest first: nothing else."""
        recent = await self._store.recent_messages(
            message.conversation_id, limit=self._ai.context_messages + 5
        )
        upto = next((i for i, m in enumerate(recent) if m.id == message.id), len(recent) - 1)
        turns: list[Turn] = []
        for item in recent[: upto + 1]:
            if not item.body.strip():
                continue
            if item.direction is Direction.INBOUND:
                if item.keyword is None or not item.keyword.replaces_post:
                    turns.append(("customer", item.body))
            elif item.status in _SENT:
                turns.append(("business", item.body))
        if not turns or turns[-1] != ("customer", message.body):
            turns.append(("customer", message.body))  # the store may lag a fresh text
        return turns[-self._ai.context_messages :]

    def _made_safe(self, draft: Draft, text: str) -> Draft:
        update: dict[str, object] = {}
        if draft.reply is not None and len(draft.reply) > self._ai.max_reply_chars:
            update["reply"] = cap_reply(draft.reply, self._ai.max_reply_chars)[0]
        if instructs_assistant(text) and not draft.escalate:
            update["escalate"] = True
            update["reason"] = "the text gives the assistant instructions; answer it yourself"
        if draft.intent == "opt_out_request" and not draft.escalate:
            update["escalate"] = True
            update["reason"] = "asks to stop getting texts: confirm the opt-out is recorded"
        return draft.model_copy(update=update) if update else draft

    async def _settle_new(
        self,
        message: Message,
        business_number: str,
        draft: Draft,
        engine: Drafter,
        note: str | None,
    ) -> Message:
        """Store the draft; in auto-reply mode send it first (idempotently), so a crash
        in between sends nothing twice and loses nothing."""
        state = DraftState.PROPOSED if draft.reply else DraftState.HANDOFF
        conversation = await self._store.get_conversation(message.conversation_id)
        policy = self._ai.auto_reply_for(business_number)
        if conversation is not None and state is DraftState.PROPOSED and policy.enabled:
            now = utcnow()
            recent = await self._store.recent_messages(conversation.id, limit=10)
            held = hold_reason(policy, draft, business=self._business, now=now, recent=recent)
            if held is None and draft.reply is not None:
                problem = await self._replies.send_text(
                    conversation,
                    draft.reply,
                    author=ASSISTANT,
                    key=f"draft:{message.id}",
                    announce=False,
                )
                if problem is None:
                    state = DraftState.AUTO_SENT
                    self._metrics.auto_replies.labels("sent").inc()
                else:
                    held = problem
            if held is not None:
                note = f"Not sent automatically: {held}."
                self._metrics.auto_replies.labels("held").inc()
        # With the assistant answering, a person learns of what needs them by the flag.
        needs_person = draft.reason if draft.escalate else None
        if draft.appointment:
            needs_person = f"appointment request: {draft.appointment}"
        if (
            conversation is not None
            and policy.enabled
            and needs_person is not None
            and not conversation.flagged
        ):
            await self._desk.flag(conversation, by=ASSISTANT, reason=needs_person)
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
            settled_by=ASSISTANT if state is DraftState.AUTO_SENT else None,
            settled_at=utcnow() if state is DraftState.AUTO_SENT else None,
        )
        saved = await self._store.save_draft(
            message.id, stored, intent=draft.intent, urgency=draft.urgency
        )
        if draft.appointment and self._appointment_webhook and saved is not None:
            await self._store.enqueue(
                NewJob(
                    key=f"appointment:{message.id}",
                    kind=JobKind.APPOINTMENT_WEBHOOK,
                    lane=ai_lane(message.conversation_id),
                    conversation_id=message.conversation_id,
                    message_id=message.id,
                ),
                run_at=utcnow(),
            )
            self._on_enqueued()
        return saved or message

    # --- an agent's decision ----------------------------------------------------------

    async def send(self, message_id: str, user: str, text: str | None = None) -> str | None:
        """Send the draft (or the agent's edit of it) as `user`. Returns the problem to
        tell the agent, or None when it is on its way."""
        message = await self._store.get_message(message_id)
        draft = message.draft if message else None
        if message is None or draft is None or draft.reply is None:
            return "That draft is gone."
        if not draft.state.open:
            return _already(draft)
        conversation = await self._store.get_conversation(message.conversation_id)
        if conversation is None:
            return "That conversation is gone."
        body = draft.reply if text is None else text.strip()
        if not body:
            return "The reply is empty."
        problem, _ = await self._replies.check_text(conversation, body)
        if problem is not None:
            return problem
        edited = text is not None and body != draft.reply
        state = DraftState.EDITED if edited else DraftState.SENT
        settled = await self._store.settle_draft(message.id, state, by=user, at=utcnow())
        if settled is None:
            latest = await self._store.get_message(message.id)
            return _already(latest.draft) if latest and latest.draft else "That draft is gone."
        # The key makes a retried click send nothing more.
        problem = await self._replies.send_text(
            conversation, body, author=user, key=f"draft:{message.id}", announce=False
        )
        await self._refresh_card(settled)
        return problem

    async def discard(self, message_id: str, user: str) -> str | None:
        message = await self._store.settle_draft(
            message_id, DraftState.DISCARDED, by=user, at=utcnow()
        )
        if message is None:
            latest = await self._store.get_message(message_id)
            draft = latest.draft if latest else None
            return _already(draft) if draft else "That draft is gone."
        await self._refresh_card(message)
        return None

    async def _refresh_card(self, message: Message) -> None:
        await self._store.enqueue(draft_card_job(message), run_at=utcnow())
        self._on_enqueued()


def _already(draft: MessageDraft) -> str:
    who = mention(draft.settled_by or ASSISTANT)
    if draft.state in (DraftState.SENT, DraftState.EDITED, DraftState.AUTO_SENT):
        return f"That draft was already sent by {who}."
    if draft.state is DraftState.DISCARDED:
        return f"That draft was already discarded by {who}."
    return "That draft has no reply to send."
