"""A conversation's lifecycle: assign, resolve, flag, mark seen — and their undo.
Each change updates the store, refreshes the header card and the App Home inboxes,
leaves a line in the thread's history, and tells a new assignee."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Protocol

from bridge.models import (
    Conversation,
    ConversationPatch,
    ConversationStatus,
    JobKind,
    NewJob,
    conversation_lane,
    header_job,
    home_job,
    utcnow,
)
from bridge.mrkdwn import clip, escape, mention
from bridge.phones import display
from bridge.store.base import ContactStore, ConversationStore, JobStore
from bridge.threading.commands import MAX_REASON


class _Store(ConversationStore, ContactStore, JobStore, Protocol):
    """The store roles this module uses."""


def note_job(conversation_id: int, text: str, *, broadcast: bool = False) -> NewJob:
    key = f"note:{uuid.uuid4().hex}"
    return NewJob(
        key=key,
        kind=JobKind.CHANNEL_NOTE if broadcast else JobKind.THREAD_NOTE,
        lane=conversation_lane(conversation_id),
        conversation_id=conversation_id,
        note=text,
    )


class ConversationDesk:
    def __init__(self, store: _Store, on_enqueued: Callable[[], None]) -> None:
        self._store = store
        self._on_enqueued = on_enqueued

    async def _change(
        self, conversation: Conversation, patch: ConversationPatch, history: str | None
    ) -> Conversation:
        updated = await self._store.update_conversation(conversation.id, patch)
        if updated is None:
            raise LookupError(f"conversation #{conversation.id} is gone")
        now = utcnow()
        await self._store.enqueue(header_job(updated.id), run_at=now)
        await self._store.enqueue(home_job(), run_at=now)
        if history is not None:
            await self._store.enqueue(note_job(updated.id, history), run_at=now)
        self._on_enqueued()
        return updated

    async def assign(self, conversation: Conversation, assignee: str, by: str) -> str:
        if conversation.assignee == assignee:
            return f"#{conversation.id} is already assigned to <@{assignee}>."
        history = (
            f"{mention(by)} took this conversation"
            if assignee == by
            else f"Assigned to <@{assignee}> by {mention(by)}"
        )
        updated = await self._change(conversation, ConversationPatch(assignee=assignee), history)
        if assignee != by:
            contact = await self._store.get_contact(updated.subscriber)
            who = display(updated.subscriber)
            if contact and contact.name:
                who = f"{escape(clip(contact.name, 100))} ({who})"
            await self._store.enqueue(
                NewJob(
                    key=f"dm:{uuid.uuid4().hex}",
                    kind=JobKind.DIRECT_MESSAGE,
                    lane=f"dm:{assignee}",
                    conversation_id=updated.id,
                    user=assignee,
                    note=f"{mention(by)} assigned you the SMS conversation #{updated.id} "
                    f"with {who}.",
                ),
                run_at=utcnow(),
            )
            self._on_enqueued()
        return f"Assigned #{updated.id} to <@{assignee}>."

    async def unassign(self, conversation: Conversation, by: str) -> str:
        if conversation.assignee is None:
            return f"#{conversation.id} is not assigned."
        history = f"Unassigned from <@{conversation.assignee}> by <@{by}>"
        await self._change(conversation, ConversationPatch(assignee=None), history)
        return f"Unassigned #{conversation.id}."

    async def resolve(self, conversation: Conversation, by: str) -> str:
        if conversation.status is ConversationStatus.RESOLVED:
            return f"#{conversation.id} is already resolved."
        patch = ConversationPatch(status=ConversationStatus.RESOLVED, flagged=False)
        await self._change(conversation, patch, f"Resolved by <@{by}>")
        return f"Resolved #{conversation.id}."

    async def reopen(self, conversation: Conversation, by: str | None) -> str:
        if conversation.status is ConversationStatus.OPEN:
            return f"#{conversation.id} is already open."
        history = f"Reopened by <@{by}>" if by else None
        await self._change(conversation, ConversationPatch(status=ConversationStatus.OPEN), history)
        return f"Reopened #{conversation.id}."

    async def reopen_on_text(self, conversation: Conversation) -> None:
        """A resolved conversation got a new text: reopen it, and say so in the channel
        (one broadcast line) so the team notices without scrolling."""
        await self._change(conversation, ConversationPatch(status=ConversationStatus.OPEN), None)
        await self._store.enqueue(
            note_job(
                conversation.id,
                f":leftwards_arrow_with_hook: #{conversation.id} reopened: "
                f"a new text from {display(conversation.subscriber)}",
                broadcast=True,
            ),
            run_at=utcnow(),
        )
        self._on_enqueued()

    async def flag(self, conversation: Conversation, by: str, reason: str) -> str:
        reason = clip(reason.strip(), MAX_REASON)  # a dialog or the assistant may send more
        history = f"Flagged by {mention(by)}" + (f": {escape(reason)}" if reason else "")
        patch = ConversationPatch(flagged=True, flag_reason=reason or None)
        await self._change(conversation, patch, history)
        return f"Flagged #{conversation.id}."

    async def unflag(self, conversation: Conversation, by: str) -> str:
        if not conversation.flagged:
            return f"#{conversation.id} is not flagged."
        patch = ConversationPatch(flagged=False, flag_reason=None)
        await self._change(conversation, patch, f"Unflagged by <@{by}>")
        return f"Unflagged #{conversation.id}."

    async def contact_changed(self, conversation: Conversation) -> None:
        """The card shows the contact's name: refresh it."""
        await self._store.enqueue(header_job(conversation.id), run_at=utcnow())
        await self._store.enqueue(home_job(), run_at=utcnow())
        self._on_enqueued()

    async def seen(self, conversation: Conversation, by: str) -> str:
        await self._change(conversation, ConversationPatch(seen_at=utcnow()), None)
        return f"Marked #{conversation.id} as seen."
