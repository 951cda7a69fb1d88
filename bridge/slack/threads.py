"""A conversation's Slack thread: created on first need, replaced when Slack
reports it gone. Only jobs of the conversation's own lane call this, so two
parents are never created for one conversation at once; a parent's post is keyed by
the conversation and its thread epoch, so a run after a crash finds the one it made."""

from __future__ import annotations

from typing import Any, Protocol

from bridge.config import Business
from bridge.delivery.errors import GiveUp, RetryLater
from bridge.models import Conversation, utcnow
from bridge.slack.blocks.header_card import render_header
from bridge.slack.gateway import ThreadGone
from bridge.slack.posts import Posted, SlackPosts
from bridge.store.base import AwayStore, ConsentStore, ContactStore, ConversationStore
from bridge.threading.opening_hours import opening


class _Store(ConversationStore, ConsentStore, ContactStore, AwayStore, Protocol):
    """The store roles this module uses."""


class ThreadKeeper:
    def __init__(
        self, store: _Store, posts: SlackPosts, inbox_channel: str, business: Business
    ) -> None:
        self._store = store
        self._business = business
        self._posts = posts
        self._inbox = inbox_channel

    async def conversation(self, conversation_id: int) -> Conversation:
        conversation = await self._store.get_conversation(conversation_id)
        if conversation is None:
            raise GiveUp(f"conversation {conversation_id} is not in the store")
        return conversation

    async def ensure(self, conversation: Conversation) -> tuple[str, str]:
        """The (channel, parent ts) of the conversation's thread, posting the parent
        header card first if it has none."""
        if conversation.slack_channel and conversation.slack_thread_ts:
            return conversation.slack_channel, conversation.slack_thread_ts
        text, blocks = await self.header(conversation)
        key = f"parent:{conversation.id}:{conversation.thread_epoch}"
        parent = await self._posts.post(key, self._inbox, text, blocks=blocks)
        if not await self._store.set_thread(
            conversation.id, self._inbox, parent.ts, replacing=conversation.slack_thread_ts
        ):
            current = await self.conversation(conversation.id)
            if current.slack_channel and current.slack_thread_ts:
                return current.slack_channel, current.slack_thread_ts
            raise RetryLater("the conversation's thread changed meanwhile")
        await self._store.mark_header_shown(conversation.id, conversation.last_activity_at)
        return self._inbox, parent.ts

    async def header(self, conversation: Conversation) -> tuple[str, list[dict[str, Any]]]:
        """The parent card as the conversation, its contact and consent stand now."""
        contact = await self._store.get_contact(conversation.subscriber)
        consent = await self._store.consent_state(
            conversation.business_number, conversation.subscriber, conversation.channel
        )
        away = await self._store.away()
        hours = opening(self._business, conversation.business_number, utcnow(), away)
        return render_header(conversation, contact, consent, hours)

    async def post(
        self,
        conversation: Conversation,
        text: str,
        *,
        key: str,
        broadcast: bool = False,
        blocks: list[dict[str, Any]] | None = None,
        detail: str = "",
        as_person: tuple[str, str] | None = None,
        land: bool = True,
    ) -> Posted:
        """Post into the conversation's thread once per `key` and thread: the landed
        post (its `detail` is what the attempt that landed was told; see `SlackPosts`).
        A thread that vanished is forgotten and the job retried, to post under a new
        parent."""
        channel, thread_ts = await self.ensure(conversation)
        try:
            posted = await self._posts.post(
                f"{key}@{thread_ts}",
                channel,
                text,
                thread_ts=thread_ts,
                broadcast=broadcast,
                blocks=blocks,
                detail=detail,
                as_person=as_person,
                land=land,
            )
        except ThreadGone:
            await self.forget(conversation)
            raise RetryLater("the thread is gone; the next run posts under a new parent") from None
        return posted

    async def forget(self, conversation: Conversation) -> Conversation:
        """Slack says the thread is gone: drop it, so the next post makes a new one."""
        if conversation.slack_thread_ts is not None:
            await self._store.clear_thread(conversation.id, conversation.slack_thread_ts)
        return await self.conversation(conversation.id)
