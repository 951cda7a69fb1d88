"""Job THREAD_NOTE: a short system line in a conversation's thread (what the bridge
did on its own, who changed what): the event the job carries, in words."""

from __future__ import annotations

from bridge.delivery.errors import GiveUp
from bridge.models import Job
from bridge.slack.blocks.wording import note_text
from bridge.slack.threads import ThreadKeeper
from bridge.store.base import MessageStore


class ThreadNote:
    """THREAD_NOTE, or CHANNEL_NOTE with `broadcast`: the line also shows in the channel."""

    def __init__(
        self, store: MessageStore, threads: ThreadKeeper, *, broadcast: bool = False
    ) -> None:
        self._store = store
        self._threads = threads
        self._broadcast = broadcast

    async def __call__(self, job: Job) -> None:
        if job.conversation_id is None or not job.note:
            raise GiveUp("thread note without a conversation or text")
        conversation = await self._threads.conversation(job.conversation_id)
        posted = await self._threads.post(
            conversation, note_text(job.note), key=job.key, broadcast=self._broadcast
        )
        if job.message_id is not None:  # the note shows a reply: its marks go here
            await self._store.set_shown_ts(job.message_id, posted.ts)
