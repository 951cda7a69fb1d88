"""Job THREAD_NOTE: a short system line in a conversation's thread (what the bridge
did on its own, who changed what)."""

from __future__ import annotations

from bridge.delivery.errors import GiveUp
from bridge.models import Job
from bridge.slack.gateway import SlackGateway
from bridge.slack.threads import ThreadKeeper


class ThreadNote:
    """THREAD_NOTE, or CHANNEL_NOTE with `broadcast`: the line also shows in the channel."""

    def __init__(
        self, gateway: SlackGateway, threads: ThreadKeeper, *, broadcast: bool = False
    ) -> None:
        self._gateway = gateway
        self._threads = threads
        self._broadcast = broadcast

    async def __call__(self, job: Job) -> None:
        if job.conversation_id is None or not job.note:
            raise GiveUp("thread note without a conversation or text")
        conversation = await self._threads.conversation(job.conversation_id)
        await self._threads.post(conversation, job.note, key=job.key, broadcast=self._broadcast)
