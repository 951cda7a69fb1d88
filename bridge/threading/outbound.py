"""The outbound pipeline: an agent's thread reply → a stored, guarded, queued SMS;
edits and deletes inside the undo window; delivery reports back to the thread."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal, Protocol

from bridge.compliance.consent import revocation
from bridge.compliance.guard import refusal
from bridge.compliance.promo import PromoCheck
from bridge.compliance.quiet_hours import next_allowed
from bridge.events import (
    DeliveryFailed,
    FailureReason,
    Problem,
    Refusal,
    ReplyCost,
    ReplyEvent,
    ReplyHeld,
    ReplyRefused,
    ReplyReleased,
    ReplyScheduled,
    ReplySent,
    ReplyTooLate,
    SendFailure,
    Snag,
    StillMarketing,
    Stopped,
    TooLong,
)
from bridge.jobs import (
    campaign_progress_job,
    mark_delivery_job,
    publish_job,
    tell_agent_job,
    thread_note_job,
)
from bridge.models import (
    Channel,
    ConsentSource,
    Conversation,
    DeliveryStatus,
    Message,
    MessagePurpose,
    OutboundReply,
    utcnow,
)
from bridge.store.base import (
    ConsentStore,
    ConversationStore,
    JobStore,
    MessageStore,
    PublishingStore,
    ReplyStore,
)
from bridge.threading.mentions import named
from bridge.threading.segments import MAX_BODY, Encoding, cost, normalise


class _Store(
    ConversationStore, MessageStore, ReplyStore, ConsentStore, JobStore, PublishingStore, Protocol
):
    """The store roles this module uses."""


SID_WAIT_STEPS = 10
SID_WAIT_STEP_SECONDS = 0.2


class Outcome(StrEnum):
    QUEUED = "queued"
    DUPLICATE = "duplicate"  # a retried Slack event
    NOT_A_CONVERSATION = "not_a_conversation"
    NOTE = "note"  # internal: starts with the note prefix
    EMPTY = "empty"
    REFUSED = "refused"  # the agent was told why
    EDITED = "edited"
    CANCELLED = "cancelled"
    TOO_LATE = "too_late"  # already sent; the agent was told
    HELD = "held"  # promotional without marketing consent: the agent decides


@dataclass(frozen=True)
class ReplyRules:
    note_prefix: str = "note:"
    undo_seconds: float = 5.0
    smart_encoding: bool = True
    promo: PromoCheck = field(default_factory=PromoCheck)
    # Where a number's own time zone is unknown (toll-free, several zones).
    default_zone: str = "UTC"


def reply_cost(conversation_id: int, author: str, body: str) -> ReplyCost | None:
    """A heads-up when a reply costs more than one segment, and why."""
    price = cost(body)
    if price.segments <= 1:
        return None
    return ReplyCost(
        conversation_id=conversation_id,
        author=author,
        segments=price.segments,
        characters=len(body),
        culprits=price.culprits[:8] if price.encoding is Encoding.UCS2 else (),
    )


class OutboundPipeline:
    def __init__(
        self,
        store: _Store,
        rules: ReplyRules,
        on_enqueued: Callable[[], None],
        wake_at: Callable[[datetime], None] = lambda _when: None,
    ) -> None:
        self._store = store
        self._rules = rules
        self._on_enqueued = on_enqueued
        self._wake_at = wake_at

    async def tell(self, event: ReplyEvent | ReplyTooLate) -> None:
        await self._store.enqueue(tell_agent_job(event), run_at=utcnow())
        self._on_enqueued()

    def _prepare(self, text: str, conversation: Conversation) -> str:
        # GSM-7 look-alikes save SMS segments; WhatsApp has none to save.
        sms = conversation.channel is Channel.SMS
        return normalise(text) if self._rules.smart_encoding and sms else text

    def _is_note(self, text: str) -> bool:
        prefix = self._rules.note_prefix.strip().lower()
        return bool(prefix) and text.lstrip().lower().startswith(prefix)

    async def conversation_of(self, channel: str, thread_ts: str) -> Conversation | None:
        return await self._store.find_conversation_by_thread(channel, thread_ts)

    async def reply(
        self, conversation: Conversation, *, author: str, channel: str, ts: str, text: str
    ) -> Outcome:
        if self._is_note(text):
            return Outcome.NOTE
        body = self._prepare(text, conversation)
        if not body.strip():
            return Outcome.EMPTY
        if len(body) > MAX_BODY:
            too_long = TooLong(characters=len(body), limit=MAX_BODY)
            await self.tell(
                ReplyRefused(conversation_id=conversation.id, author=author, problem=too_long)
            )
            return Outcome.REFUSED
        consent = await self._store.consent_state(
            conversation.business_number, conversation.subscriber, conversation.channel
        )
        reply = OutboundReply(
            conversation_id=conversation.id,
            body=body,
            author=author,
            slack_channel=channel,
            slack_ts=ts,
        )
        if (reason := refusal(conversation, consent, MessagePurpose.REPLY)) is not None:
            return await self._block(reply, reason)
        promo = self._rules.promo.match(body)
        if promo is not None and not consent.marketing:
            return await self._hold(conversation, reply, promo)
        purpose = MessagePurpose.REPLY if promo is None else MessagePurpose.MARKETING
        send_at = utcnow() + timedelta(seconds=self._rules.undo_seconds)
        if purpose is MessagePurpose.MARKETING:
            send_at = max(
                send_at, next_allowed(conversation.subscriber, send_at, self._rules.default_zone)
            )
        record = await self._store.record_outbound(reply, send_at=send_at, purpose=purpose)
        if not record.created:
            return Outcome.DUPLICATE
        if send_at > utcnow() + timedelta(seconds=self._rules.undo_seconds):
            await self.tell(
                ReplyScheduled(conversation_id=conversation.id, author=author, send_at=send_at)
            )
        # Names still to come count as "@someone": close to what is sent. Only SMS has
        # segments.
        price = reply_cost(conversation.id, author, named(body, {}))
        if conversation.channel is Channel.SMS and price is not None:
            await self.tell(price)
        self._wake_at(send_at)  # the send is due when the undo window ends
        return Outcome.QUEUED

    async def _block(self, reply: OutboundReply, reason: Refusal | Stopped) -> Outcome:
        """Refused by the guard: kept on record as BLOCKED and marked on the agent's
        message, never dropped silently."""
        record = await self._store.record_outbound(reply, send_at=None)
        if not record.created:
            return Outcome.DUPLICATE
        blocked = await self._store.finish_send(record.message.id, DeliveryStatus.BLOCKED)
        await self._store.enqueue(mark_delivery_job(blocked), run_at=utcnow())
        await self.tell(
            ReplyRefused(conversation_id=reply.conversation_id, author=reply.author, problem=reason)
        )
        return Outcome.REFUSED

    async def _hold(self, conversation: Conversation, reply: OutboundReply, promo: str) -> Outcome:
        """Promotional words to someone without marketing consent: nothing goes out
        until the agent edits it into a support-only reply, or cancels it."""
        record = await self._store.record_outbound(reply, send_at=None)
        if not record.created:
            return Outcome.DUPLICATE
        await self.tell(
            ReplyHeld(
                conversation_id=conversation.id,
                author=reply.author,
                message_id=record.message.id,
                promo=promo,
                subscriber=conversation.subscriber,
            )
        )
        return Outcome.HELD

    async def release_held(self, message_id: str, text: str) -> Problem | None:
        """The agent's support-only edit of a held reply: queue it, or say why not."""
        already = Stopped(snag=Snag.ALREADY_DECIDED)
        message = await self._store.get_message(message_id)
        if message is None or message.status is not DeliveryStatus.HELD:
            return already
        conversation = await self._store.get_conversation(message.conversation_id)
        assert conversation is not None  # messages belong to conversations
        body = self._prepare(text, conversation)
        consent = await self._store.consent_state(
            conversation.business_number, conversation.subscriber, conversation.channel
        )
        problem: Problem | None = (
            Stopped(snag=Snag.WRITE_SOMETHING)
            if not body.strip()
            else TooLong(characters=len(body), limit=MAX_BODY)
            if len(body) > MAX_BODY
            else refusal(conversation, consent, MessagePurpose.REPLY)
        )
        if problem is None and (promo := self._rules.promo.match(body)) is not None:
            problem = StillMarketing(promo=promo)
        if problem is not None:
            return problem
        if (
            await self._store.release_held(message_id, body, MessagePurpose.REPLY, send_at=utcnow())
            is None
        ):
            return already
        # The thread shows the promotion the agent typed: say what goes out instead.
        released = ReplyReleased(
            conversation_id=conversation.id, author=message.author or "", body=body
        )
        note = thread_note_job(released, key=f"released:{message_id}", showing=message_id)
        await self._store.enqueue(note, run_at=utcnow())
        self._on_enqueued()
        return None

    async def check_text(
        self, conversation: Conversation, body: str
    ) -> tuple[Problem | None, MessagePurpose]:
        """Whether a text may be sent now by command, and as what: (problem, purpose)."""
        if not body.strip():
            return Stopped(snag=Snag.NOTHING_TO_SEND), MessagePurpose.REPLY
        if len(body) > MAX_BODY:
            return TooLong(characters=len(body), limit=MAX_BODY), MessagePurpose.REPLY
        consent = await self._store.consent_state(
            conversation.business_number, conversation.subscriber, conversation.channel
        )
        promo = self._rules.promo.match(body)
        purpose = MessagePurpose.REPLY if promo is None else MessagePurpose.MARKETING
        if (reason := refusal(conversation, consent, purpose)) is not None:
            return reason.model_copy(update={"promo": promo}), purpose
        return None, purpose

    async def send_text(
        self,
        conversation: Conversation,
        text: str,
        *,
        author: str,
        canned: str | None = None,
        key: str | None = None,
        announce: bool = True,
        shown_ts: str | None = None,
    ) -> Problem | None:
        """A text an agent sends by command or button (not a thread reply): guarded like
        a reply, but refused outright, not held, when it reads like marketing without
        consent. `announce`: note in the thread who sent what (a draft card shows that
        itself, `shown_ts`). Returns the problem, or None when queued."""
        body = self._prepare(text, conversation)
        problem, purpose = await self.check_text(conversation, body)
        if problem is not None:
            return problem
        # `key` makes a retried trigger (Slack redelivering a reaction) send nothing more.
        key = key or f"cmd:{uuid.uuid4().hex}"
        recorded = await self._store.record_system_text(
            conversation.id, body, purpose, key=key, author=author, shown_ts=shown_ts
        )
        if recorded is None or not announce:
            self._on_enqueued()
            return None
        sent = ReplySent(conversation_id=conversation.id, author=author, body=body, canned=canned)
        await self._store.enqueue(thread_note_job(sent, key=key), run_at=utcnow())
        self._on_enqueued()
        return None

    async def cancel_held(self, message_id: str) -> bool:
        return await self._store.cancel_unsent(message_id)

    async def edit(self, channel: str, ts: str, text: str, *, by: str) -> Outcome:
        message = await self._store.get_message_by_slack_ts(channel, ts)
        if message is None or message.author is None or message.author != by:
            return Outcome.NOT_A_CONVERSATION  # edits never start a send; only its author's
        if message.status is DeliveryStatus.QUEUED:
            conversation = await self._store.get_conversation(message.conversation_id)
            assert conversation is not None  # messages belong to conversations
            problem = await self._edit_problem(message, conversation, text)
            if problem is not None:
                # The edited text may not go out as it is: nothing goes out.
                if await self._store.cancel_unsent(message.id):
                    await self.tell(
                        ReplyRefused(
                            conversation_id=message.conversation_id,
                            author=by,
                            problem=problem,
                            edit=True,
                        )
                    )
                    return Outcome.CANCELLED
            elif await self._store.edit_unsent(message.id, self._prepare(text, conversation)):
                return Outcome.EDITED
        await self._too_late(message, "edit")
        return Outcome.TOO_LATE

    async def _edit_problem(
        self, message: Message, conversation: Conversation, text: str
    ) -> Problem | None:
        """An edit gets the checks a new reply gets, and cannot turn it into marketing."""
        if self._is_note(text):
            return Stopped(snag=Snag.EDIT_MADE_NOTE)
        body = self._prepare(text, conversation)
        marketing = message.purpose is MessagePurpose.MARKETING  # consented, already checked
        if not marketing and self._rules.promo.match(body) is not None:
            return Stopped(snag=Snag.EDIT_MADE_MARKETING)
        problem, _ = await self.check_text(conversation, body)
        return problem

    async def delete(self, channel: str, ts: str) -> Outcome:
        message = await self._store.get_message_by_slack_ts(channel, ts)
        if message is None or message.author is None:
            return Outcome.NOT_A_CONVERSATION
        if await self._store.cancel_unsent(message.id):
            return Outcome.CANCELLED
        await self._too_late(message, "delete")
        return Outcome.TOO_LATE

    async def _too_late(self, message: Message, change: Literal["edit", "delete"]) -> None:
        if message.status not in {
            DeliveryStatus.SENDING,
            DeliveryStatus.SENT,
            DeliveryStatus.DELIVERED,
        }:
            return  # held, refused, cancelled or failed: nothing went out to correct
        assert message.author is not None
        await self.tell(
            ReplyTooLate(
                conversation_id=message.conversation_id, author=message.author, change=change
            )
        )

    async def delivery_update(
        self, sid: str, status: DeliveryStatus, failure: SendFailure | None
    ) -> Message | None:
        """A provider's status callback: move the message forward, and show the final
        state on the agent's Slack message (and why it failed, if it did)."""
        error_code = failure.code if failure is not None else None
        message = await self._store.update_delivery(sid, status, error_code)
        for _ in range(SID_WAIT_STEPS):
            # A callback can overtake the write of the sid it is about (the send's
            # answer and the callback race); wait briefly for that write to land.
            if message is not None or await self._store.get_message_by_sid(sid) is not None:
                break
            await asyncio.sleep(SID_WAIT_STEP_SECONDS)
            message = await self._store.update_delivery(sid, status, error_code)
        if message is None:
            return None
        if failure is not None and failure.reason is FailureReason.OPTED_OUT:
            await record_carrier_opt_out(self._store, message, failure)
        if message.status.final:
            await mark_delivery(self._store, message, failure)
            self._on_enqueued()
        return message


async def mark_delivery(store: _Store, message: Message, failure: SendFailure | None) -> None:
    """Show a reply's final state on its Slack message; a failure is also published
    (`delivery.failed`), for the notifiers that want it."""
    if message.campaign_id is not None:  # its progress message shows it, not a mark
        await store.enqueue(campaign_progress_job(message.campaign_id), run_at=utcnow())
        return
    failure_event = await failed(store, message, failure)
    await store.enqueue(mark_delivery_job(message, failure_event), run_at=utcnow())
    if failure_event is not None and store.publishing.wants(DeliveryFailed):
        await store.enqueue(publish_job(failure_event, key=f"failed:{message.id}"), run_at=utcnow())


async def failed(
    store: _Store, message: Message, failure: SendFailure | None
) -> DeliveryFailed | None:
    """The event of a reply that ended undelivered; None if it did not."""
    if message.status not in {DeliveryStatus.FAILED, DeliveryStatus.UNDELIVERED}:
        return None
    conversation = await store.get_conversation(message.conversation_id)
    if conversation is None:
        return None
    return DeliveryFailed(
        conversation_id=conversation.id,
        message_id=message.id,
        subscriber=conversation.subscriber,
        failure=failure or SendFailure(reason=FailureReason.UNKNOWN),
    )


async def record_carrier_opt_out(store: _Store, message: Message, failure: SendFailure) -> None:
    """The provider refused a send because the subscriber replied STOP to the carrier:
    the ledger hears it."""
    conversation = await store.get_conversation(message.conversation_id)
    if conversation is None:
        return
    await store.record_consent(
        revocation(
            conversation.business_number,
            conversation.subscriber,
            channel=conversation.channel,
            source=ConsentSource.CARRIER,
            at=utcnow(),
            evidence=f"Twilio error {failure.code} sending message {message.sid or message.id}",
            ref=f"{failure.code}:{message.id}",
        )
    )
