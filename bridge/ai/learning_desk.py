"""Learning from the team: when an agent answers a text the assistant handed off, they
may teach it their answer — the customer's wording as another way to ask an entry the
base has, or a new entry with their answer. An admin (`slack.admins`; every inbox
member while that list is empty) approves or rejects each lesson; an approved one is
written to learned.yml in the knowledge folder and the base is reloaded at once.

Learning needs a knowledge folder (`knowledge.path` naming a folder): without one there
is nowhere to write, and no offer is made.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from bridge.ai.kb_reload import KnowledgeReloader
from bridge.ai.knowledge import Entry, KnowledgeError, KnowledgeSource
from bridge.ai.learned_file import write_lesson
from bridge.ai.offline import OfflineDrafter
from bridge.events import KnowledgeNotReloaded, TeachOffered
from bridge.jobs import home_job, tell_agent_job
from bridge.models import (
    ASSISTANT,
    Conversation,
    Direction,
    DraftState,
    Lesson,
    LessonState,
    Message,
    utcnow,
)
from bridge.store.base import ConversationStore, JobStore, LessonStore, MessageStore


class _Store(LessonStore, MessageStore, ConversationStore, JobStore, Protocol):
    """The store roles this module uses."""


CANDIDATES = 3  # entries offered as "another way to ask"
MAX_QUESTION = 300  # the knowledge base's longest question
MAX_ANSWER = 1600  # one SMS's most, as an agent's reply
_CONTEXT = 20  # messages read to find the agent's answer
_SAME_ANSWER = 0.5  # word overlap above which the agent said what an entry says


class LessonProblem(StrEnum):
    """Why a teach action or a decision did nothing (told to that person alone)."""

    NOT_ADMIN = "not_admin"
    NOT_HANDED_OFF = "not_handed_off"  # the text is gone, or the assistant answered it
    ALREADY_PROPOSED = "already_proposed"
    NO_QUESTION = "no_question"
    NO_ANSWER = "no_answer"
    NO_ENTRY = "no_entry"  # the entry chosen is no longer in the knowledge base
    DECIDED = "decided"  # decided already, or no such lesson
    NO_FOLDER = "no_folder"  # knowledge.path names no folder to write learned.yml in


@dataclass(frozen=True)
class Candidate:
    entry_id: str
    title: str


@dataclass(frozen=True)
class TeachForm:
    """What the teach dialog shows: the customer's wording, the agent's answer, the
    entries it may be another way to ask (best first), and the choice suggested (an
    entry whose answer says what the agent said; None: a new entry)."""

    message: Message
    question: str
    answer: str
    candidates: tuple[Candidate, ...]
    suggested: str | None


def _words(text: str) -> set[str]:
    return {w for w in "".join(c if c.isalnum() else " " for c in text.lower()).split()}


def _overlap(a: str, b: str) -> float:
    one, two = _words(a), _words(b)
    return len(one & two) / len(one | two) if one | two else 0.0


def suggestion(offered: Iterable[Entry], answer: str) -> str | None:
    """The teach dialog's default: of the entries it offers, one whose answer says what
    the agent said (the wording is another way to ask it); None: a new entry."""
    return next((e.id for e in offered if _overlap(e.answer, answer) >= _SAME_ANSWER), None)


def _handed_off(message: Message | None) -> bool:
    return (
        message is not None
        and message.direction is Direction.INBOUND
        and message.draft is not None
        and message.draft.state is DraftState.HANDOFF
    )


class LearningDesk:
    def __init__(
        self,
        store: _Store,
        offline: OfflineDrafter,
        knowledge: KnowledgeSource,
        reloader: KnowledgeReloader,
        *,
        admins: Sequence[str],
        on_enqueued: Callable[[], None],
    ) -> None:
        self._store = store
        self._offline = offline
        self._knowledge = knowledge
        self._reloader = reloader
        self._admins = frozenset(admins)
        self._wake = on_enqueued
        path = knowledge.path
        self._folder: Path | None = path if path is not None and path.is_dir() else None
        self._writing = asyncio.Lock()  # one learned.yml write at a time in this process

    def is_admin(self, user: str) -> bool:
        return not self._admins or user in self._admins

    # --- agents -------------------------------------------------------------------------

    async def offer(self, conversation: Conversation, author: str) -> None:
        """After `author`'s reply: if it answers a text the assistant handed off (the
        conversation's latest text), offer them to teach the assistant."""
        if self._folder is None:
            return
        recent = await self._store.recent_messages(conversation.id, limit=_CONTEXT)
        latest = next((m for m in reversed(recent) if m.direction is Direction.INBOUND), None)
        if latest is None or not _handed_off(latest):
            return
        event = TeachOffered(conversation_id=conversation.id, author=author, message_id=latest.id)
        await self._store.enqueue(tell_agent_job(event), run_at=utcnow())
        self._wake()

    async def form(self, message_id: str, user: str) -> TeachForm | LessonProblem:
        """What the teach dialog proposes for the handed-off text `message_id`."""
        if self._folder is None:
            return LessonProblem.NO_FOLDER
        message = await self._store.get_message(message_id)
        if message is None or not _handed_off(message):
            return LessonProblem.NOT_HANDED_OFF
        answer = await self._answer(message, user)
        knowledge = self._knowledge.current
        hits = self._offline.retrieve(message.body, knowledge, k=CANDIDATES).hits
        candidates = tuple(Candidate(hit.entry.id, hit.entry.title) for hit in hits)
        suggested = suggestion((hit.entry for hit in hits), answer)
        question = " ".join(message.body.split())[:MAX_QUESTION]
        return TeachForm(message, question, answer[:MAX_ANSWER], candidates, suggested)

    async def _answer(self, message: Message, user: str) -> str:
        """What a person (`user` first) answered the text with."""
        recent = await self._store.recent_messages(message.conversation_id, limit=_CONTEXT)
        replies = [
            m
            for m in recent
            if m.direction is Direction.OUTBOUND
            and m.created_at >= message.created_at
            and m.author not in (None, ASSISTANT)
        ]
        mine = [m for m in replies if m.author == user]
        chosen = (mine or replies)[-1:] if replies else []
        return chosen[0].body if chosen else ""

    async def propose(
        self,
        message_id: str,
        user: str,
        *,
        question: str,
        answer: str,
        entry_id: str | None,
        conversation_id: int | None = None,
    ) -> Lesson | LessonProblem:
        """Store the lesson for an admin; `entry_id` None: a new entry with `answer`;
        `conversation_id`: the conversation the dialog was opened on (checked)."""
        if self._folder is None:
            return LessonProblem.NO_FOLDER
        message = await self._store.get_message(message_id)
        if message is None or not _handed_off(message):
            return LessonProblem.NOT_HANDED_OFF
        if conversation_id is not None and message.conversation_id != conversation_id:
            return LessonProblem.NOT_HANDED_OFF
        question, answer = " ".join(question.split()), answer.strip()
        if not question:
            return LessonProblem.NO_QUESTION
        title = None
        if entry_id is None:
            if not answer:
                return LessonProblem.NO_ANSWER
        else:
            entry = self._knowledge.current.get(entry_id)
            if entry is None:
                return LessonProblem.NO_ENTRY
            title = entry.title
        lesson = Lesson(
            id=message.id,
            conversation_id=message.conversation_id,
            question=question[:MAX_QUESTION],
            answer=answer[:MAX_ANSWER] if entry_id is None else None,
            entry_id=entry_id,
            entry_title=title,
            proposed_by=user,
            proposed_at=utcnow(),
        )
        stored = await self._store.propose_lesson(lesson)
        if stored is None:
            return LessonProblem.ALREADY_PROPOSED
        await self._refresh_homes()
        return stored

    # --- admins -------------------------------------------------------------------------

    async def pending(self, *, limit: int) -> list[Lesson]:
        return await self._store.pending_lessons(limit=limit)

    async def decide(
        self, lesson_id: str, user: str, *, approve: bool
    ) -> Lesson | LessonProblem | KnowledgeNotReloaded:
        """Approve (write learned.yml, then reload the base) or reject a lesson."""
        if not self.is_admin(user):
            return LessonProblem.NOT_ADMIN
        lesson = await self._store.get_lesson(lesson_id)
        if lesson is None or lesson.state is not LessonState.PENDING:
            return LessonProblem.DECIDED
        if approve:
            written = await self._write(lesson)
            if written is not None:
                return written
        state = LessonState.APPROVED if approve else LessonState.REJECTED
        decided = await self._store.decide_lesson(lesson_id, state, by=user, at=utcnow())
        await self._refresh_homes()
        return decided if decided is not None else LessonProblem.DECIDED

    async def _write(self, lesson: Lesson) -> KnowledgeNotReloaded | LessonProblem | None:
        """learned.yml gets the lesson (a repeat merges into what it holds, so two
        approvals write it once) and the base is reloaded."""
        folder = self._folder
        if folder is None:
            return LessonProblem.NO_FOLDER
        async with self._writing:
            knowledge = self._knowledge.current
            if lesson.entry_id is not None and knowledge.get(lesson.entry_id) is None:
                return LessonProblem.NO_ENTRY
            try:
                await asyncio.to_thread(write_lesson, folder, lesson, knowledge)
            except KnowledgeError as exc:
                return self._reloader.not_reloaded(exc)
            reloaded = await self._reloader.reload()
        return reloaded if isinstance(reloaded, KnowledgeNotReloaded) else None

    async def _refresh_homes(self) -> None:
        await self._store.enqueue(home_job(), run_at=utcnow())
        self._wake()
