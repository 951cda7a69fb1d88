"""Jobs POST_DRAFT and SYNC_DRAFT: a draft that came after its text, as its own message
in the thread; and a draft's card re-rendered after someone sent or discarded it."""

from __future__ import annotations

import contextlib
from typing import Any, Protocol

from bridge.ai.draft_desk import DraftDesk
from bridge.delivery.errors import RetryLater
from bridge.models import Job, Message
from bridge.slack.blocks.draft_card import draft_blocks, draft_text, with_text
from bridge.slack.gateway import SlackGateway, ThreadGone
from bridge.slack.jobs.inbound_posts import carried_blocks, inbound_text, shown_text
from bridge.slack.jobs.job_message import job_message
from bridge.slack.threads import ThreadKeeper
from bridge.store.base import BurstStore, ContactStore, DraftStore, MessageStore
from bridge.threading.away_replies import AwayReplies


class _Store(DraftStore, MessageStore, ContactStore, BurstStore, Protocol):
    """The store roles this module uses."""


class LateDraftPoster:
    def __init__(
        self, store: _Store, threads: ThreadKeeper, drafts: DraftDesk, away: AwayReplies
    ) -> None:
        self._store = store
        self._threads = threads
        self._drafts = drafts
        self._away = away

    async def __call__(self, job: Job) -> None:
        message = await job_message(self._store, job)
        if message.slack_ts is None:
            raise RetryLater("the text is not in the thread yet", after=1, throttled=True)
        message = await self._drafts.draft_late(message)
        if message.draft is None:
            return  # no draft wanted, or it is still being drafted (then this runs again)
        # The draft is known now: whether the assistant answered, or the away reply is due.
        await self._away.answer(message.id)
        if message.draft.slack_ts is not None:
            return  # posted with its text, or by a first run
        conversation = await self._threads.conversation(message.conversation_id)
        blocks = draft_blocks(message, answering=True)
        posted = await self._threads.post(
            conversation, draft_text(message), key=f"draft:{message.id}", blocks=blocks
        )
        await self._store.set_draft_slack_ts(message.id, posted.ts)


class DraftCardSync:
    def __init__(self, store: _Store, gateway: SlackGateway, threads: ThreadKeeper) -> None:
        self._store = store
        self._gateway = gateway
        self._threads = threads

    async def __call__(self, job: Job) -> None:
        message = await job_message(self._store, job)
        draft = message.draft
        channel = message.slack_channel
        if draft is None or draft.slack_ts is None or channel is None:
            return  # not shown yet: it will be posted in its current state
        if draft.slack_ts != message.slack_ts:
            text, blocks = draft_text(message), draft_blocks(message, answering=True)
        else:
            text, blocks = await self._with_texts(message, channel, draft.slack_ts)
        with contextlib.suppress(ThreadGone):  # someone deleted it: nothing to show it on
            await self._gateway.update_message(channel, draft.slack_ts, text, blocks)

    async def _with_texts(
        self, message: Message, channel: str, ts: str
    ) -> tuple[str, list[dict[str, Any]]]:
        """A draft posted with its text: the message as posted, with its text alone, or
        with its burst's texts (below the parent card, when they opened the thread)."""
        conversation = await self._threads.conversation(message.conversation_id)
        if ts == conversation.slack_thread_ts:
            text, card = await self._threads.header(conversation)
            return text, card + await carried_blocks(self._store, channel, ts)
        if len(await self._store.messages_at(channel, ts)) > 1:
            return inbound_text(message), await carried_blocks(self._store, channel, ts)
        text = await shown_text(self._store, message)
        return text, with_text(text, message) or []
