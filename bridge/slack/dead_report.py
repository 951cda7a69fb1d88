"""Job REPORT_DEAD: tell the inbox channel that a job gave up, with what it carried,
so a text that could not be threaded is still in front of people."""

from __future__ import annotations

import hashlib
from typing import Protocol

from bridge.models import Direction, Job
from bridge.mrkdwn import escape
from bridge.phones import display
from bridge.slack.posts import SlackPosts
from bridge.store.base import ConversationStore, MessageStore


class _Store(ConversationStore, MessageStore, Protocol):
    """The store roles this module uses."""


class DeadReport:
    def __init__(self, store: _Store, posts: SlackPosts, inbox_channel: str) -> None:
        self._store = store
        self._posts = posts
        self._inbox = inbox_channel

    async def __call__(self, job: Job) -> None:
        lines = [f":warning: The bridge gave up on a task ({escape(job.note or 'no reason')})."]
        message = await self._store.get_message(job.message_id) if job.message_id else None
        if message is not None:
            conversation = await self._store.get_conversation(message.conversation_id)
            who = display(conversation.subscriber) if conversation else "an unknown number"
            stamp = message.created_at.strftime("%Y-%m-%d %H:%M UTC")
            what = "Text from" if message.direction is Direction.INBOUND else "Reply to"
            lines.append(f"{what} {who} (#{message.conversation_id}) at {stamp}:")
            lines.append(f">{escape(message.body)}")
        # One report per job and error: a job that dies again the same way is told once.
        reason = hashlib.sha1((job.note or "").encode(), usedforsecurity=False).hexdigest()[:8]
        await self._posts.post(f"{job.key}:{reason}", self._inbox, "\n".join(lines))
