"""Job SYNC_HEADER: re-render the parent card after the conversation changed.

The job key is per conversation, so a burst of changes enqueues it once and it
renders the latest state when it runs: one chat.update per burst."""

from __future__ import annotations

from bridge.delivery.errors import GiveUp
from bridge.models import Job
from bridge.slack.gateway import SlackGateway, ThreadGone
from bridge.slack.threads import ThreadKeeper
from bridge.store.base import ConversationStore


class HeaderSync:
    def __init__(
        self, store: ConversationStore, gateway: SlackGateway, threads: ThreadKeeper
    ) -> None:
        self._store = store
        self._gateway = gateway
        self._threads = threads

    async def __call__(self, job: Job) -> None:
        if job.conversation_id is None:
            raise GiveUp("header job without a conversation")
        conversation = await self._threads.conversation(job.conversation_id)
        if not (conversation.slack_channel and conversation.slack_thread_ts):
            return  # the parent is posted with the current state when it is created
        text, blocks = await self._threads.header(conversation)
        try:
            await self._gateway.update_message(
                conversation.slack_channel, conversation.slack_thread_ts, text, blocks
            )
        except ThreadGone:
            await self._threads.forget(conversation)
            return
        await self._store.mark_header_shown(conversation.id, conversation.last_activity_at)
