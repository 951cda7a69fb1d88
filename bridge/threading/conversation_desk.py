"""A conversation's lifecycle: assign, resolve, flag, mark seen — and their undo.
Each change updates the store, refreshes the header card and the App Home inboxes,
and emits its event: a line in the thread's history, and whatever the notifiers want
of it (a new assignee hears of it)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from bridge.events import (
    ConversationAssigned,
    ConversationEvent,
    ConversationFlagged,
    ConversationReopened,
    ConversationResolved,
    ConversationUnassigned,
    ConversationUnflagged,
    Publishing,
)
from bridge.jobs import channel_note_job, header_job, home_job, publish_job, thread_note_job
from bridge.models import Conversation, ConversationPatch, ConversationStatus, utcnow
from bridge.store.base import ConversationStore, JobStore
from bridge.text import clip
from bridge.threading.commands.grammar import MAX_REASON


class _Store(ConversationStore, JobStore, Protocol):
    """The store roles this module uses."""


class Change(StrEnum):
    ASSIGN = "assign"
    UNASSIGN = "unassign"
    RESOLVE = "resolve"
    REOPEN = "reopen"
    FLAG = "flag"
    UNFLAG = "unflag"
    SEEN = "seen"


@dataclass(frozen=True)
class Changed:
    """What a change did, for the person who asked: `done` is False when the
    conversation was that way already."""

    change: Change
    conversation_id: int
    done: bool = True
    assignee: str | None = None


class ConversationDesk:
    def __init__(
        self, store: _Store, on_enqueued: Callable[[], None], *, publishing: Publishing
    ) -> None:
        self._store = store
        self._on_enqueued = on_enqueued
        self._publishing = publishing  # the events some notifier wants

    async def _change(
        self, conversation: Conversation, patch: ConversationPatch, event: ConversationEvent | None
    ) -> Conversation:
        jobs = [header_job(conversation.id), home_job()]
        if event is not None:
            # A new text's reopening is told to the whole channel, the rest in the thread.
            reopened_by_text = isinstance(event, ConversationReopened) and event.by is None
            jobs.append(channel_note_job(event) if reopened_by_text else thread_note_job(event))
            if self._publishing.wants(type(event)):
                jobs.append(publish_job(event, key=uuid.uuid4().hex))
        # One write: a crash never keeps the change and loses its note or notification.
        updated = await self._store.update_conversation(conversation.id, patch, jobs=jobs)
        if updated is None:
            raise LookupError(f"conversation #{conversation.id} is gone")
        self._on_enqueued()
        return updated

    async def assign(self, conversation: Conversation, assignee: str, by: str) -> Changed:
        if conversation.assignee == assignee:
            return Changed(Change.ASSIGN, conversation.id, done=False, assignee=assignee)
        event = ConversationAssigned(conversation_id=conversation.id, assignee=assignee, by=by)
        await self._change(conversation, ConversationPatch(assignee=assignee), event)
        return Changed(Change.ASSIGN, conversation.id, assignee=assignee)

    async def unassign(self, conversation: Conversation, by: str) -> Changed:
        if conversation.assignee is None:
            return Changed(Change.UNASSIGN, conversation.id, done=False)
        event = ConversationUnassigned(
            conversation_id=conversation.id, assignee=conversation.assignee, by=by
        )
        await self._change(conversation, ConversationPatch(assignee=None), event)
        return Changed(Change.UNASSIGN, conversation.id)

    async def resolve(self, conversation: Conversation, by: str) -> Changed:
        if conversation.status is ConversationStatus.RESOLVED:
            return Changed(Change.RESOLVE, conversation.id, done=False)
        patch = ConversationPatch(status=ConversationStatus.RESOLVED, flagged=False)
        await self._change(
            conversation, patch, ConversationResolved(conversation_id=conversation.id, by=by)
        )
        return Changed(Change.RESOLVE, conversation.id)

    async def reopen(self, conversation: Conversation, by: str | None) -> Changed:
        if conversation.status is ConversationStatus.OPEN:
            return Changed(Change.REOPEN, conversation.id, done=False)
        event = (
            ConversationReopened(
                conversation_id=conversation.id, by=by, subscriber=conversation.subscriber
            )
            if by
            else None
        )
        await self._change(conversation, ConversationPatch(status=ConversationStatus.OPEN), event)
        return Changed(Change.REOPEN, conversation.id)

    async def reopen_on_text(self, conversation: Conversation) -> None:
        """A resolved conversation got a new text: reopen it, and say so in the channel
        (one broadcast line) so the team notices without scrolling."""
        event = ConversationReopened(
            conversation_id=conversation.id, by=None, subscriber=conversation.subscriber
        )
        await self._change(conversation, ConversationPatch(status=ConversationStatus.OPEN), event)

    async def flag(self, conversation: Conversation, by: str, reason: str) -> Changed:
        reason = clip(reason.strip(), MAX_REASON)  # a dialog or the assistant may send more
        patch = ConversationPatch(flagged=True, flag_reason=reason or None)
        event = ConversationFlagged(conversation_id=conversation.id, by=by, reason=reason)
        await self._change(conversation, patch, event)
        return Changed(Change.FLAG, conversation.id)

    async def unflag(self, conversation: Conversation, by: str) -> Changed:
        if not conversation.flagged:
            return Changed(Change.UNFLAG, conversation.id, done=False)
        patch = ConversationPatch(flagged=False, flag_reason=None)
        event = ConversationUnflagged(conversation_id=conversation.id, by=by)
        await self._change(conversation, patch, event)
        return Changed(Change.UNFLAG, conversation.id)

    async def contact_changed(self, conversation: Conversation) -> None:
        """The card shows the contact's name: refresh it."""
        await self._store.enqueue(header_job(conversation.id), run_at=utcnow())
        await self._store.enqueue(home_job(), run_at=utcnow())
        self._on_enqueued()

    async def seen(self, conversation: Conversation, by: str) -> Changed:
        await self._change(conversation, ConversationPatch(seen_at=utcnow()), None)
        return Changed(Change.SEEN, conversation.id)
