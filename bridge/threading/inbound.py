"""The inbound pipeline: a verified text → compliance keywords first, then stored,
its conversation found or opened, its Slack effects queued."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from bridge.compliance.keyword_desk import KeywordDesk
from bridge.jobs import header_job
from bridge.models import (
    Conversation,
    ConversationStatus,
    InboundRecord,
    InboundSms,
    KeywordMark,
    utcnow,
)
from bridge.store.base import JobStore, MessageStore
from bridge.threading.conversation_desk import ConversationDesk


class _Store(MessageStore, JobStore, Protocol):
    """The store roles this module uses."""


@dataclass(frozen=True)
class ReplyReading:
    """What a text is to the campaign text it may answer."""

    absorbed: bool = False  # an answer, counted: it is no inbox message
    answers: str | None = None  # the campaign text it answers (its post quotes it)


class CampaignAnswers(Protocol):
    """Reads a text as a reply to a campaign (`campaigns/replies.py`); conversations
    do not know campaigns, so the composition root passes it in."""

    async def read_reply(self, sms: InboundSms) -> ReplyReading: ...


def header_is_stale(conversation: Conversation, refresh: timedelta) -> bool:
    """Whether the card's "last activity" lags enough to be worth a chat.update."""
    if conversation.slack_thread_ts is None:
        return False  # the parent is still to be posted, with the current state
    shown = conversation.header_activity_at
    return shown is None or conversation.last_activity_at - shown >= refresh


class InboundPipeline:
    def __init__(
        self,
        store: _Store,
        keywords: KeywordDesk,
        desk: ConversationDesk,
        *,
        header_refresh: timedelta,
        on_enqueued: Callable[[], None],
        campaigns: CampaignAnswers | None = None,
    ) -> None:
        self._store = store
        self._campaigns = campaigns
        self._keywords = keywords
        self._desk = desk
        self._refresh = header_refresh
        self._on_enqueued = on_enqueued

    async def receive(self, sms: InboundSms) -> InboundRecord | None:
        """The text's record; None when it was an answer to a campaign, counted there."""
        mark = self._keywords.mark(sms)
        await self._keywords.record_consent(sms, mark)
        reading = ReplyReading()
        # A keyword (STOP, HELP, START) or a text flagged as one is never an answer.
        if mark is None and self._campaigns is not None:
            reading = await self._campaigns.read_reply(sms)
            if reading.absorbed:
                return None
        if reading.answers is not None:
            sms = sms.model_copy(update={"answers": reading.answers})
        record = await self._store.record_inbound(sms, keyword=mark)
        # Also for a provider retry: a crash may have come before the answer was queued.
        await self._keywords.answer(record)
        if record.created:
            mark = record.message.keyword
            consent_changed = (
                mark is not None and mark.replaces_post and mark is not (KeywordMark.HELP)
            )
            conversation = record.conversation
            is_keyword = mark is not None and mark.replaces_post
            if conversation.status is ConversationStatus.RESOLVED and not is_keyword:
                await self._desk.reopen_on_text(conversation)  # refreshes the card too
            elif consent_changed or header_is_stale(conversation, self._refresh):
                await self._store.enqueue(header_job(conversation.id), run_at=utcnow())
            self._on_enqueued()
        return record
