"""The SEND_SMS job: one reply, sent at most once.

The attempt is recorded before Twilio is called. If a worker dies (or Twilio's
answer is lost) after that, the next attempt first asks Twilio whether the message
exists and only sends when it does not. The SMS side is a port: the Twilio edge
implements it and `app.py` plugs it in."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

import structlog

from bridge.campaigns.models import CampaignState
from bridge.compliance.guard import refusal
from bridge.compliance.quiet_hours import next_allowed
from bridge.delivery.errors import GiveUp, RetryLater
from bridge.events import FailureReason, Problem, ReplyRefused, SendFailure, Snag, Stopped
from bridge.jobs import tell_agent_job, thread_note_job
from bridge.models import (
    ASSISTANT,
    Channel,
    Conversation,
    DeliveryStatus,
    Job,
    Message,
    MessagePurpose,
    utcnow,
)
from bridge.store.base import (
    CampaignStore,
    ConsentStore,
    ConversationStore,
    JobStore,
    MessageStore,
    PublishingStore,
    ReplyStore,
    StoreConflict,
)
from bridge.threading.mentions import marked, named
from bridge.threading.outbound import mark_delivery, record_carrier_opt_out


class _Store(
    ConversationStore,
    MessageStore,
    ReplyStore,
    ConsentStore,
    JobStore,
    PublishingStore,
    CampaignStore,
    Protocol,
):
    """The store roles this module uses."""


log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Sender:
    """Who sends, and on which channel: the conversation's business number, or a
    Messaging Service."""

    from_number: str | None = None
    messaging_service_sid: str | None = None
    channel: Channel = Channel.SMS


class Refused(Exception):
    """The provider refused the message for good, for `failure`."""

    def __init__(self, failure: SendFailure) -> None:
        super().__init__(failure.detail)
        self.failure = failure


class NotTaken(RetryLater):
    """The provider did not take the message now (rate limited, or no connection was
    made): nothing of this attempt is on its way, so the next one need not look for it."""


class ErrorAnswered(RetryLater):
    """The provider answered with a server error: the request is over, but the message
    may have been made before the error (a lost answer). If it was, it is listed now."""


# Looks at a reply caught between release and queueing before leaving it held.
HELD_PATIENCE = 5
# How often a paused campaign's queued text looks whether it may go.
CAMPAIGN_PAUSE_POLL = 2.0
# A worker waits for a send slot at most this long; a longer wait is rescheduled.
PACING_PATIENCE = 0.5


# How long a send whose answer never came may still be made by the provider (it can
# hold a request past the bridge's 10 s timeout, or a killed process's request may still
# be on its way): until then, finding no such message does not mean it was not sent.
IN_FLIGHT = timedelta(minutes=1)
# Meanwhile it is looked for this often: Twilio makes a message it held within seconds,
# and the reply is then done, rather than waiting out the minute.
LOOK_AGAIN = 5.0
# How long a reply may wait for the names of the people it mentions; then "@someone".
NAMES_PATIENCE = timedelta(minutes=2)


class Directory(Protocol):
    async def names(self, user_ids: set[str]) -> dict[str, str]:
        """The names of these people that can be had now (the rest: later)."""


class SmsPort(Protocol):
    def wait_for(self, sender: Sender) -> float:
        """Seconds until this sender may send again (0: now)."""

    async def send(self, to: str, sender: Sender, body: str) -> str:
        """Send and return the provider's message id; raise `Refused`, `NotTaken`,
        `ErrorAnswered` or `RetryLater` (no answer: the message may yet be made)."""

    async def find_sent(self, to: str, sender: Sender, body: str, since: datetime) -> list[str]:
        """The ids of messages like this one created since `since`, newest first."""


class ReplySender:
    def __init__(
        self,
        store: _Store,
        sms: SmsPort,
        directory: Directory,
        *,
        messaging_service_sid: str | None,
        on_enqueued: Callable[[], None],
        default_zone: str = "UTC",
    ) -> None:
        self._store = store
        self._sms = sms
        self._directory = directory
        self._service = messaging_service_sid
        self._on_enqueued = on_enqueued
        self._zone = default_zone

    def sender_for(self, conversation: Conversation) -> Sender:
        if self._service:
            return Sender(messaging_service_sid=self._service, channel=conversation.channel)
        # The number the subscriber texted is the one they expect replies from.
        return Sender(from_number=conversation.business_number, channel=conversation.channel)

    async def __call__(self, job: Job) -> None:
        if job.message_id is None:
            raise GiveUp("send job without a message")
        queued = await self._store.get_message(job.message_id)
        if queued is None:
            return  # nothing to send
        if queued.status is DeliveryStatus.HELD:
            if job.attempts < HELD_PATIENCE:
                # Released a moment ago by another process, whose switch to QUEUED is
                # still on its way (MongoDB writes the job first): look again shortly.
                raise RetryLater("the reply is still held", after=1.0)
            return  # the release never finished: the reply stays held, its buttons work
        if queued.campaign_id is not None and not await self._campaign_lets(queued):
            return
        conversation = await self._store.get_conversation(queued.conversation_id)
        if conversation is None:
            raise GiveUp(f"conversation {queued.conversation_id} is not in the store")
        await self._name_mentions(queued)
        sender = self.sender_for(conversation)
        self._wait_for_quiet_hours(queued, conversation)
        self._wait_for_pacing(sender)
        attempt = await self._store.begin_send(job.message_id)
        if attempt is None:
            return  # cancelled in the undo window, or finished by an earlier attempt
        message = attempt.message
        consent = await self._store.consent_state(
            conversation.business_number, conversation.subscriber, conversation.channel
        )
        why = refusal(conversation, consent, message.purpose)
        if why is not None:  # opted out while the reply waited
            await self._finish(message.id, DeliveryStatus.BLOCKED, problem=why)
            return
        if attempt.resumed:
            found = await self._sent_earlier(conversation, sender, message.body, attempt.began_at)
            if found is not None:
                await self._record_sent(message, conversation, found)
                return
            if (wait := (attempt.began_at + IN_FLIGHT - utcnow()).total_seconds()) > 0:
                raise RetryLater(
                    "an earlier attempt may still be on its way through Twilio",
                    after=min(wait, LOOK_AGAIN),
                    throttled=True,
                )
        try:
            sid = await self._sms.send(conversation.subscriber, sender, message.body)
        except Refused as exc:
            if exc.failure.reason is FailureReason.OPTED_OUT:
                await record_carrier_opt_out(self._store, message, exc.failure)
            await self._finish(message.id, DeliveryStatus.FAILED, failure=exc.failure)
            return
        except NotTaken:
            # The attempt is over: the next one starts afresh, with no look or wait.
            await self._store.finish_send(message.id, DeliveryStatus.QUEUED)
            raise
        except ErrorAnswered:
            found = await self._sent_earlier(conversation, sender, message.body, attempt.began_at)
            if found is not None:
                await self._record_sent(message, conversation, found)
                return
            await self._store.finish_send(message.id, DeliveryStatus.QUEUED)
            raise
        await self._record_sent(message, conversation, sid)

    async def _campaign_lets(self, message: Message) -> bool:
        """A campaign's text waits while its campaign is paused, and is cancelled with it."""
        campaign = await self._store.get_campaign(message.campaign_id or "")
        if campaign is not None and campaign.state is CampaignState.PAUSED:
            raise RetryLater("its campaign is paused", after=CAMPAIGN_PAUSE_POLL, throttled=True)
        if campaign is None or campaign.state is CampaignState.CANCELLED:
            await self._store.cancel_unsent(message.id)
            return False
        return True

    async def _sent_earlier(
        self, conversation: Conversation, sender: Sender, body: str, began_at: datetime
    ) -> str | None:
        """The provider's message an earlier attempt of this reply created, if any: one
        like it, created since that attempt began, that no other message holds (an
        identical reply a moment before has its own)."""
        for sid in await self._sms.find_sent(conversation.subscriber, sender, body, began_at):
            if await self._store.get_message_by_sid(sid) is None:
                return sid
        return None

    async def _record_sent(self, message: Message, conversation: Conversation, sid: str) -> None:
        try:
            await self._store.finish_send(message.id, DeliveryStatus.SENT, sid=sid)
        except StoreConflict as exc:
            # Retrying cannot record it, and the reply must not stay "sending" for good:
            # it ends failed, its author is told, and the outbox reports the dead job.
            log.error("sms.send_unrecorded", message=message.id, sid=sid, error=str(exc))
            await self._finish(
                message.id, DeliveryStatus.FAILED, problem=Stopped(snag=Snag.UNRECORDED)
            )
            raise

    async def _name_mentions(self, message: Message) -> None:
        """Fill in the names a reply mentions before it is sent (see `mentions`)."""
        people = marked(message.body)
        if not people or message.status is not DeliveryStatus.QUEUED:
            return
        names = await self._directory.names(people)
        if people - names.keys() and utcnow() - message.created_at < NAMES_PATIENCE:
            raise RetryLater("looking up the names the reply mentions", after=2, throttled=True)
        await self._store.edit_unsent(message.id, named(message.body, names))

    def _wait_for_pacing(self, sender: Sender) -> None:
        """A sender at its rate: hand the worker back until a send slot is near, rather
        than hold it (and with it the incoming texts waiting for a worker)."""
        wait = self._sms.wait_for(sender)
        if wait > PACING_PATIENCE:
            raise RetryLater("the sender is at its rate", after=wait, throttled=True)

    def _wait_for_quiet_hours(self, message: Message, conversation: Conversation) -> None:
        """Marketing waits for the recipient's daytime, checked again at send time (a
        reply queued at 20:59 may come up at 21:00)."""
        if message.purpose is not MessagePurpose.MARKETING:
            return
        now = utcnow()
        opens = next_allowed(conversation.subscriber, now, self._zone)
        if opens > now:
            raise RetryLater(
                "marketing waits for 8:00 where the subscriber is",
                after=(opens - now).total_seconds(),
                throttled=True,
            )

    async def _finish(
        self,
        message_id: str,
        status: DeliveryStatus,
        *,
        failure: SendFailure | None = None,
        problem: Problem | None = None,
    ) -> None:
        code = failure.code if failure is not None else None
        message = await self._store.finish_send(message_id, status, error_code=code)
        await mark_delivery(self._store, message, failure)
        if problem is not None and message.author is not None:
            refused = ReplyRefused(
                conversation_id=message.conversation_id, author=message.author, problem=problem
            )
            # The assistant reads no ephemeral notes: its refusals are the thread's to see.
            job = (
                thread_note_job(refused, key=message.id)
                if message.author == ASSISTANT
                else tell_agent_job(refused)
            )
            await self._store.enqueue(job, run_at=utcnow())
        self._on_enqueued()
