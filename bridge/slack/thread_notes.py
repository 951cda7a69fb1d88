"""Job THREAD_NOTE: a short system line in a conversation's thread (what the bridge
did on its own, who changed what)."""

from __future__ import annotations

from bridge.delivery.errors import GiveUp, RetryLater
from bridge.models import Job
from bridge.slack.gateway import SlackGateway, ThreadGone
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
        channel, thread_ts = await self._threads.ensure(conversation)
        try:
            await self._gateway.post_message(
                channel, job.note, thread_ts=thread_ts, broadcast=self._broadcast
            )
        except ThreadGone:
            await self._threads.forget(conversation)
            raise RetryLater("the thread is gone; the next run posts under a new parent") from None
