"""Job MOVE_THREAD: `/sms route` moves a conversation's thread to a team's channel."""

from __future__ import annotations

from bridge.delivery.errors import GiveUp
from bridge.models import Job
from bridge.slack.threads import ThreadKeeper


class ThreadMove:
    def __init__(self, threads: ThreadKeeper) -> None:
        self._threads = threads

    async def __call__(self, job: Job) -> None:
        if job.conversation_id is None or job.note is None or job.user is None:
            raise GiveUp("a thread move without a conversation, team or person")
        conversation = await self._threads.conversation(job.conversation_id)
        await self._threads.move(conversation, job.note, by=job.user, key=job.key)
