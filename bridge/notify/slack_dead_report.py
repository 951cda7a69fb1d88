"""Tells the inbox channel that a job gave up, with what it carried, so a text that
could not be threaded is still in front of people."""

from __future__ import annotations

import hashlib
from typing import Protocol

from bridge.events import Event, JobDied
from bridge.models import Direction, Job, Model
from bridge.phones import display
from bridge.slack.blocks.mrkdwn import escape
from bridge.slack.blocks.wording import event_text
from bridge.slack.posts import SlackPosts
from bridge.store.base import ConversationStore, MessageStore


class _Store(ConversationStore, MessageStore, Protocol):
    """The store roles this module uses."""


class SlackDeadJobReport:
    name = "slack_dead_report"
    wants: tuple[type[Model], ...] = (JobDied,)

    def __init__(self, store: _Store, posts: SlackPosts, inbox_channel: str) -> None:
        self._store = store
        self._posts = posts
        self._inbox = inbox_channel

    async def notify(self, event: Event, key: str) -> None:
        if not isinstance(event, JobDied):
            return
        lines = [event_text(event)]
        message = await self._store.get_message(event.message_id) if event.message_id else None
        if message is not None:
            conversation = await self._store.get_conversation(message.conversation_id)
            who = display(conversation.subscriber) if conversation else "an unknown number"
            stamp = message.created_at.strftime("%Y-%m-%d %H:%M UTC")
            what = "Text from" if message.direction is Direction.INBOUND else "Reply to"
            lines.append(f"{what} {who} (#{message.conversation_id}) at {stamp}:")
            lines.append(f">{escape(message.body)}")
        # One report per job and error: a job that dies again the same way is told once.
        reason = hashlib.sha1(event.error.encode(), usedforsecurity=False).hexdigest()[:8]
        await self._posts.post(f"dead:{event.job}:{reason}", self._inbox, "\n".join(lines))

    async def __call__(self, job: Job) -> None:
        """REPORT_DEAD, as an earlier release stored it: the error is the note."""
        died = JobDied(
            job=job.key.removeprefix("dead:"),
            error=job.note or "",
            conversation_id=job.conversation_id,
            message_id=job.message_id,
        )
        await self.notify(died, job.key)
