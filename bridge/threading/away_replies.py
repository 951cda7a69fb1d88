"""The away reply (`hours.away_reply`): a text that comes while the business is closed
is told when it opens and by when it will have an answer.

It is decided once the text's draft is known (the Slack edge asks when it posts the
text with its draft, or the draft after it), so "the assistant already answered" is
exact. Once per conversation per closed period: the key holds the period's next
opening, so a retried job or a second text that night sends nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Protocol

from bridge.compliance.guard import refusal
from bridge.config import Business, HoursSection
from bridge.events import AwayReplySent
from bridge.jobs import thread_note_job
from bridge.models import Direction, DraftState, MessagePurpose, utcnow
from bridge.store.base import (
    AwayStore,
    ConsentStore,
    ConversationStore,
    JobStore,
    MessageStore,
    ReplyStore,
)
from bridge.templates import fill
from bridge.threading.opening_hours import Opening, opening, when_text


class _Store(
    MessageStore, ConversationStore, ConsentStore, ReplyStore, JobStore, AwayStore, Protocol
):
    """The store roles this module uses."""


def period_key(conversation_id: int, hours: Opening) -> str:
    """One closed period of one conversation: until its next opening, or, when that is
    not known, the away switch's time on."""
    if hours.next_open is not None:
        return f"away:{conversation_id}:opens:{hours.next_open.isoformat()}"
    assert hours.away is not None
    return f"away:{conversation_id}:away:{hours.away.since.isoformat()}"


class AwayReplies:
    def __init__(
        self,
        store: _Store,
        business: Business,
        hours: HoursSection,
        on_enqueued: Callable[[], None],
    ) -> None:
        self._store = store
        self._business = business
        self._hours = hours
        self._on_enqueued = on_enqueued

    def _body(self, template: str, hours: Opening) -> str:
        name = {"business_name": self._business.name}
        if hours.next_open is None:  # away with no end: no time to promise
            return fill(self._hours.away_reply_open_ended, name)
        reply_by = hours.next_open + timedelta(minutes=self._hours.response_minutes)
        opens, by = when_text(hours.next_open, hours.at), when_text(reply_by, hours.at)
        return fill(template, name | {"next_open": opens, "response_time": by})

    async def answer(self, message_id: str) -> None:
        """Text the away reply for the inbound text `message_id`, if it is due."""
        template = self._hours.away_reply
        if template is None:
            return
        message = await self._store.get_message(message_id)
        if message is None or message.direction is not Direction.INBOUND:
            return
        if message.keyword is not None:
            return  # STOP, HELP…: the keyword's own answer, or none, is what is due
        if message.draft is not None and message.draft.state is DraftState.AUTO_SENT:
            return  # the assistant answered it
        conversation = await self._store.get_conversation(message.conversation_id)
        if conversation is None:
            return
        away = await self._store.away()
        # When the text came, not when it is posted: a text at 17:59 is in opening hours.
        hours = opening(self._business, conversation.business_number, message.created_at, away)
        if hours.open or (hours.next_open is None and hours.away is None):
            return  # open, or no opening hours set: nothing honest to say
        consent = await self._store.consent_state(
            conversation.business_number, conversation.subscriber, channel=conversation.channel
        )
        if refusal(conversation, consent, MessagePurpose.AWAY_REPLY) is not None:
            return  # opted out (or WhatsApp's window closed): the guard says no
        key = period_key(conversation.id, hours)
        body = self._body(template, hours)
        queued = await self._store.record_system_text(
            conversation.id, body, MessagePurpose.AWAY_REPLY, key=key
        )
        if queued is None:
            return  # sent already in this closed period
        sent = AwayReplySent(conversation_id=conversation.id, body=body, next_open=hours.next_open)
        await self._store.enqueue(thread_note_job(sent, key=key), run_at=utcnow())
        self._on_enqueued()
