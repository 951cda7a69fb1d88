"""What becomes of a draft: an agent sends it (as proposed or edited) or discards it, or
the assistant sends it itself in auto-reply mode.

Every send of a draft is keyed by the text it answers (`draft:<message id>`), so however
often a click or a job is repeated, at most one SMS goes out. An agent's send is queued
first and the draft marked sent after: a crash in between leaves the buttons on a draft
that went out, and the next click only marks it. The assistant claims its draft
(AUTO_SENT) before sending, so an agent's click cannot send it as well; `resume` sends
what a crash left claimed but unsent.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from bridge.events import Problem, Snag, Stopped, dump_problem
from bridge.jobs import draft_card_job
from bridge.metrics import Metrics
from bridge.models import (
    ASSISTANT,
    Conversation,
    DraftOutcome,
    DraftState,
    Message,
    MessageDraft,
    utcnow,
)
from bridge.store.base import (
    ConversationStore,
    DraftStore,
    DraftTallyStore,
    JobStore,
    MessageStore,
    ReplyStore,
)
from bridge.threading.outbound import OutboundPipeline


class _Store(
    ConversationStore, MessageStore, DraftStore, ReplyStore, JobStore, DraftTallyStore, Protocol
):
    """The store roles this module uses."""


@dataclass(frozen=True)
class Taken:
    """The draft was decided before this click: `state` by `by` (None: it is gone).
    `sent_anyway`: this click's send went out before the other's discard landed."""

    state: DraftState | None = None
    by: str | None = None
    sent_anyway: bool = False


GONE = Taken()


def send_key(message_id: str) -> str:
    """The id of the SMS a draft becomes, whoever sends it."""
    return f"draft:{message_id}"


def _card(message: Message) -> str | None:
    """Where the draft shows in its thread (with its text, or as its own message)."""
    return message.draft.slack_ts if message.draft and message.draft.slack_ts else None


def already(draft: MessageDraft) -> Taken:
    return Taken(draft.state, draft.settled_by or ASSISTANT)


class DraftDecisions:
    def __init__(
        self,
        store: _Store,
        replies: OutboundPipeline,
        metrics: Metrics,
        on_enqueued: Callable[[], None],
    ) -> None:
        self._store = store
        self._replies = replies
        self._metrics = metrics
        self._on_enqueued = on_enqueued

    # --- people -------------------------------------------------------------------------

    async def send(
        self, message_id: str, user: str, text: str | None = None
    ) -> Taken | Problem | None:
        """Send the draft (or `user`'s edit of it). Returns the problem to tell them, or
        None when it is on its way."""
        message = await self._store.get_message(message_id)
        draft = message.draft if message else None
        if message is None or draft is None or draft.reply is None:
            return GONE
        if not draft.state.open:
            return already(draft)
        conversation = await self._store.get_conversation(message.conversation_id)
        if conversation is None:
            return GONE
        body = draft.reply if text is None else text.strip()
        if not body:
            return Stopped(snag=Snag.EMPTY_DRAFT)
        key = send_key(message.id)
        problem = await self._replies.send_text(
            conversation, body, author=user, key=key, announce=False, shown_ts=_card(message)
        )
        if problem is not None:
            return problem
        edited = text is not None and body != draft.reply
        settled = await self._store.settle_draft(
            message.id,
            DraftState.EDITED if edited else DraftState.SENT,
            by=user,
            at=utcnow(),
            sent_text=body if edited else None,
        )
        if settled is None:  # someone was first
            latest = await self._store.get_message(message.id)
            first = latest.draft if latest else None
            if first is None:
                return GONE
            # A send by the other (the same key) is theirs to keep; a discard stops ours.
            if first.state is DraftState.DISCARDED and not await self._store.cancel_unsent(key):
                return Taken(first.state, first.settled_by or ASSISTANT, sent_anyway=True)
            return already(first)
        await self._count(settled, DraftOutcome.EDITED if edited else DraftOutcome.SENT)
        await self._refresh_card(settled)
        return None

    async def discard(self, message_id: str, user: str) -> Taken | None:
        message = await self._store.settle_draft(
            message_id, DraftState.DISCARDED, by=user, at=utcnow()
        )
        if message is None:
            latest = await self._store.get_message(message_id)
            return already(latest.draft) if latest and latest.draft else GONE
        await self._count(message, DraftOutcome.DISCARDED)
        await self._refresh_card(message)
        return None

    async def supersede(self, earlier: Sequence[Message], *, by: Message) -> None:
        """A newer text's draft (`by`, which saw the earlier texts) replaces the unsent
        drafts of the texts before it: two Sends never answer the same question twice."""
        for older in earlier:
            if older.id == by.id or older.draft is None or not older.draft.state.open:
                continue
            replaced = await self._store.settle_draft(
                older.id, DraftState.SUPERSEDED, by=None, at=utcnow()
            )
            if replaced is not None:
                await self._refresh_card(replaced)

    # --- the assistant ------------------------------------------------------------------

    async def auto_send(self, message: Message, conversation: Conversation) -> Message:
        """Send a draft the assistant claimed (AUTO_SENT). A guard refusal puts it back
        to PROPOSED with the reason, for a person to decide."""
        draft = message.draft
        assert draft is not None
        assert draft.reply is not None
        problem = await self._replies.send_text(
            conversation,
            draft.reply,
            author=ASSISTANT,
            key=send_key(message.id),
            announce=False,
            shown_ts=_card(message),
        )
        if problem is None:
            self._metrics.auto_replies.labels("sent").inc()
            return message
        self._metrics.auto_replies.labels("refused").inc()
        reopened = await self._store.settle_draft(
            message.id,
            DraftState.PROPOSED,
            by=None,
            at=None,
            expect=DraftState.AUTO_SENT,
            note=dump_problem(problem),  # the card tells it
        )
        if reopened is None:
            return message
        if draft.slack_ts is not None:  # already shown as sent (a resumed send)
            await self._refresh_card(reopened)
        return reopened

    async def resume(self, message: Message) -> Message:
        """A draft claimed by the assistant whose SMS a crash kept from being queued."""
        draft = message.draft
        if draft is None or draft.state is not DraftState.AUTO_SENT:
            return message
        if await self._store.get_message(send_key(message.id)) is not None:
            return message
        conversation = await self._store.get_conversation(message.conversation_id)
        return message if conversation is None else await self.auto_send(message, conversation)

    async def _count(self, message: Message, outcome: DraftOutcome) -> None:
        """For `/sms kb corrections`: what agents did with the cited entries' drafts
        (counted after the decision: a crash in between misses one count)."""
        sources = message.draft.sources if message.draft is not None else ()
        entries = [source for source in sources if not source.startswith("tool:")]
        if entries:  # a tool's answer (an order's status) is no entry to correct
            await self._store.count_draft_outcome(entries, outcome)

    async def _refresh_card(self, message: Message) -> None:
        await self._store.enqueue(draft_card_job(message), run_at=utcnow())
        self._on_enqueued()
