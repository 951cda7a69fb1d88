"""Job SYNC_HEADER: re-render the parent card after the conversation changed.

The job key is per conversation, so a burst of changes enqueues it once and it
renders the latest state when it runs: one chat.update per burst. A card that carries
a burst's first texts is rendered with them."""

from __future__ import annotations

from typing import Protocol

from bridge.delivery.errors import GiveUp
from bridge.models import Job
from bridge.slack.gateway import SlackGateway, ThreadGone
from bridge.slack.jobs.inbound_posts import carried_blocks
from bridge.slack.threads import ThreadKeeper
from bridge.store.base import BurstStore, ContactStore, ConversationStore, MessageStore


class _Store(ConversationStore, MessageStore, ContactStore, BurstStore, Protocol):
    """The store roles this module uses."""


class HeaderSync:
    def __init__(self, store: _Store, gateway: SlackGateway, threads: ThreadKeeper) -> None:
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
        # A card that opened its thread with a burst's first texts keeps showing them.
        channel, ts = conversation.slack_channel, conversation.slack_thread_ts
        blocks += await carried_blocks(self._store, channel, ts)
        try:
            await self._gateway.update_message(channel, ts, text, blocks)
        except ThreadGone:
            await self._threads.forget(conversation)
            return
        await self._store.mark_header_shown(conversation.id, conversation.last_activity_at)
