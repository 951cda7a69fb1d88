"""The outbound pipeline: an agent's thread reply → a stored, guarded, queued SMS;
edits and deletes inside the undo window; delivery reports back to the thread."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from bridge.compliance.consent import revocation
from bridge.compliance.guard import refusal
from bridge.compliance.promo import PromoCheck
from bridge.compliance.quiet_hours import next_allowed
from bridge.models import (
    Channel,
    ConsentSource,
    Conversation,
    DeliveryStatus,
    JobKind,
    Message,
    MessagePurpose,
    NewJob,
    OutboundReply,
    conversation_lane,
    thread_note_job,
    utcnow,
)
from bridge.mrkdwn import escape, mention, slack_time
from bridge.phones import display
from bridge.store.base import Store
from bridge.threading.mentions import named
from bridge.threading.segments import MAX_BODY, Encoding, cost, normalise
from bridge.threading.send_errors import OPTED_OUT

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


def tell_agent_job(
    conversation_id: int, user: str, note: str, *, held_message: str | None = None
) -> NewJob:
    """An ephemeral note to an agent; about a HELD reply, it carries the choice to
    edit it into a support-only reply or cancel it."""
    key = f"tell:{uuid.uuid4().hex}"
    return NewJob(
        key=key,
        kind=JobKind.TELL_AGENT,
        lane=key,  # independent: an ephemeral note waits for nothing
        conversation_id=conversation_id,
        user=user,
        note=note,
        message_id=held_message,
    )


def cost_note(body: str) -> str | None:
    """A heads-up when a reply costs more than one segment, and why."""
    price = cost(body)
    if price.segments <= 1:
        return None
    note = f"This reply goes out as {price.segments} SMS segments ({len(body)} characters)."
    if price.encoding is Encoding.UCS2:
        shown = " ".join(price.culprits[:8])
        note += (
            f" Because of {shown} (emoji or special characters), each segment holds"
            " 70 characters instead of 160."
        )
    return note


class OutboundPipeline:
    def __init__(
        self,
        store: Store,
        rules: ReplyRules,
        on_enqueued: Callable[[], None],
        wake_at: Callable[[datetime], None] = lambda _when: None,
    ) -> None:
        self._store = store
        self._rules = rules
        self._on_enqueued = on_enqueued
        self._wake_at = wake_at

    async def tell(self, conversation_id: int, user: str, note: str) -> None:
        await self._store.enqueue(tell_agent_job(conversation_id, user, note), run_at=utcnow())
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
            await self.tell(
                conversation.id,
                author,
                f"Not sent: {len(body)} characters is over the {MAX_BODY} an SMS can carry. "
                "Shorten it and send again.",
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
                conversation.id,
                author,
                f"Marketing texts wait for 8:00-21:00 where the subscriber is: this one goes "
                f"out {slack_time(send_at)}.",
            )
        # Names still to come count as "@someone": close to what is sent. Only SMS has
        # segments.
        if conversation.channel is Channel.SMS and (note := cost_note(named(body, {}))):
            await self.tell(conversation.id, author, note)
        self._wake_at(send_at)  # the send is due when the undo window ends
        return Outcome.QUEUED

    async def _block(self, reply: OutboundReply, reason: str) -> Outcome:
        """Refused by the guard: kept on record as BLOCKED and marked on the agent's
        message, never dropped silently."""
        record = await self._store.record_outbound(reply, send_at=None)
        if not record.created:
            return Outcome.DUPLICATE
        blocked = await self._store.finish_send(record.message.id, DeliveryStatus.BLOCKED)
        await self._store.enqueue(mark_delivery_job(blocked), run_at=utcnow())
        await self.tell(reply.conversation_id, reply.author, reason)
        return Outcome.REFUSED

    async def _hold(self, conversation: Conversation, reply: OutboundReply, promo: str) -> Outcome:
        """Promotional words to someone without marketing consent: nothing goes out
        until the agent edits it into a support-only reply, or cancels it."""
        record = await self._store.record_outbound(reply, send_at=None)
        if not record.created:
            return Outcome.DUPLICATE
        await self._store.enqueue(
            tell_agent_job(
                conversation.id,
                reply.author,
                f"Held: “{promo}” reads like marketing, and {display(conversation.subscriber)} "
                "has not agreed to marketing texts. Edit it into a support-only reply, "
                "or cancel it.",
                held_message=record.message.id,
            ),
            run_at=utcnow(),
        )
        self._on_enqueued()
        return Outcome.HELD

    async def release_held(self, message_id: str, text: str) -> str | None:
        """The agent's support-only edit of a held reply: queue it, or say why not."""
        message = await self._store.get_message(message_id)
        if message is None or message.status is not DeliveryStatus.HELD:
            return "This reply was already sent or cancelled."
        conversation = await self._store.get_conversation(message.conversation_id)
        assert conversation is not None  # messages belong to conversations
        body = self._prepare(text, conversation)
        consent = await self._store.consent_state(
            conversation.business_number, conversation.subscriber, conversation.channel
        )
        problem = (
            "Write something to send."
            if not body.strip()
            else f"Over the {MAX_BODY} characters an SMS can carry."
            if len(body) > MAX_BODY
            else refusal(conversation, consent, MessagePurpose.REPLY)
        )
        if problem is None and (promo := self._rules.promo.match(body)) is not None:
            problem = f"“{promo}” still reads like marketing. Remove it to send as support."
        if problem is not None:
            return problem
        if (
            await self._store.release_held(message_id, body, MessagePurpose.REPLY, send_at=utcnow())
            is None
        ):
            return "This reply was already sent or cancelled."
        # The thread shows the promotion the agent typed: say what goes out instead.
        note = thread_note_job(
            conversation.id,
            f"{mention(message.author or '')} sent instead, as support-only: “{escape(body)}”",
            key=f"released:{message_id}",
            showing=message_id,
        )
        await self._store.enqueue(note, run_at=utcnow())
        self._on_enqueued()
        return None

    async def check_text(
        self, conversation: Conversation, body: str
    ) -> tuple[str | None, MessagePurpose]:
        """Whether a text may be sent now by command, and as what: (problem, purpose)."""
        if not body.strip():
            return "There is nothing to send.", MessagePurpose.REPLY
        if len(body) > MAX_BODY:
            return f"{len(body)} characters is over the {MAX_BODY} an SMS can carry.", (
                MessagePurpose.REPLY
            )
        consent = await self._store.consent_state(
            conversation.business_number, conversation.subscriber, conversation.channel
        )
        promo = self._rules.promo.match(body)
        purpose = MessagePurpose.REPLY if promo is None else MessagePurpose.MARKETING
        if (reason := refusal(conversation, consent, purpose)) is not None:
            return reason + (f" (“{promo}” reads like marketing.)" if promo else ""), purpose
        return None, purpose

    async def send_text(
        self,
        conversation: Conversation,
        text: str,
        *,
        author: str,
        label: str = "",
        key: str | None = None,
        announce: bool = True,
        shown_ts: str | None = None,
    ) -> str | None:
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
        note = f"<@{author}> sent{label}: “{escape(body)}”"
        await self._store.enqueue(thread_note_job(conversation.id, note, key=key), run_at=utcnow())
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
                    await self.tell(message.conversation_id, message.author, problem)
                    return Outcome.CANCELLED
            elif await self._store.edit_unsent(message.id, self._prepare(text, conversation)):
                return Outcome.EDITED
        await self._too_late(message, "Edits in Slack are not re-sent")
        return Outcome.TOO_LATE

    async def _edit_problem(
        self, message: Message, conversation: Conversation, text: str
    ) -> str | None:
        """An edit gets the checks a new reply gets, and cannot turn it into marketing."""
        if self._is_note(text):
            return "Not sent: the edit made it a note, which stays internal."
        body = self._prepare(text, conversation)
        marketing = message.purpose is MessagePurpose.MARKETING  # consented, already checked
        if not marketing and self._rules.promo.match(body) is not None:
            return "Not sent: the edit made it read like marketing. Send it as a new reply."
        problem, _ = await self.check_text(conversation, body)
        return None if problem is None else f"Not sent: {problem}"

    async def delete(self, channel: str, ts: str) -> Outcome:
        message = await self._store.get_message_by_slack_ts(channel, ts)
        if message is None or message.author is None:
            return Outcome.NOT_A_CONVERSATION
        if await self._store.cancel_unsent(message.id):
            return Outcome.CANCELLED
        await self._too_late(message, "Deleting it in Slack does not unsend it")
        return Outcome.TOO_LATE

    async def _too_late(self, message: Message, what: str) -> None:
        if message.status not in {
            DeliveryStatus.SENDING,
            DeliveryStatus.SENT,
            DeliveryStatus.DELIVERED,
        }:
            return  # held, refused, cancelled or failed: nothing went out to correct
        assert message.author is not None
        await self.tell(
            message.conversation_id,
            message.author,
            f"That reply was already sent as a text. {what}; send a new reply to correct it.",
        )

    async def delivery_update(
        self, sid: str, status: DeliveryStatus, error_code: int | None
    ) -> Message | None:
        """A status callback from Twilio: move the message forward, and show the
        final state on the agent's Slack message."""
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
        if error_code == OPTED_OUT:
            await record_carrier_opt_out(self._store, message)
        if message.status.final:
            await self._store.enqueue(mark_delivery_job(message), run_at=utcnow())
            self._on_enqueued()
        return message


async def record_carrier_opt_out(store: Store, message: Message) -> None:
    """Twilio's 21610: the subscriber replied STOP to the carrier. The ledger hears it."""
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
            evidence=f"Twilio error 21610 sending message {message.sid or message.id}",
            ref=f"21610:{message.id}",
        )
    )


def mark_delivery_job(message: Message) -> NewJob:
    return NewJob(
        key=f"mark:{message.id}",
        kind=JobKind.MARK_DELIVERY,
        lane=conversation_lane(message.conversation_id),
        conversation_id=message.conversation_id,
        message_id=message.id,
    )
