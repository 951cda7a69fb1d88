"""The first-response timer (`notifications.sla`): a text that waits longer than
`first_response_minutes` business minutes for the team's answer is escalated, once per
wait.

A wait begins with the subscriber's first text (keywords aside) after the team last
answered, and ends with the team's next answer: an agent's reply (thread reply,
command, canned text or an assistant's draft sent by a person) or the assistant's own
auto-reply; the bridge's keyword answers and away reply are not answers. A text arms
the check in the same write (`effects.first_response_timer`); the check finds the
wait, counts business minutes from its start and, once they have run out, records the
breach (once per wait: the store's key is the wait's first text), which mentions the
people to tell in the thread and is published for the notification rules."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from bridge.config import Business
from bridge.delivery.errors import RetryLater
from bridge.delivery.outbox import Handler
from bridge.events import SlaBreached
from bridge.models import Conversation, ConversationStatus, Job, JobKind, utcnow
from bridge.notification_settings import NotificationsSection, SlaSetting
from bridge.store.base import AwayStore, ConversationStore, MessageStore, SlaStore
from bridge.threading.opening_hours import business_deadline


class _Store(SlaStore, ConversationStore, MessageStore, AwayStore, Protocol):
    """The store roles this module uses."""


class FirstResponseTimer:
    def __init__(
        self,
        store: _Store,
        business: Business,
        notifications: NotificationsSection,
        on_enqueued: Callable[[], None],
    ) -> None:
        self._store = store
        self._business = business
        self._notifications = notifications
        self._on_enqueued = on_enqueued

    def jobs(self) -> dict[JobKind, Handler]:
        return {JobKind.CHECK_SLA: self.check}

    async def check(self, job: Job) -> None:
        """Is the wait of `job`'s conversation past its deadline? Then escalate it, once;
        not yet: run again at the deadline; answered, resolved or no timer: nothing."""
        sla = self._notifications.sla
        if sla is None or job.conversation_id is None:
            return  # switched off since the text armed it
        conversation = await self._store.get_conversation(job.conversation_id)
        waiting = await self._store.waiting_since(job.conversation_id)
        if conversation is None or waiting is None:
            return  # answered in time: that is the cancel
        if conversation.status is ConversationStatus.RESOLVED:
            return  # closed without a word: nothing to escalate
        # A text that reopened a wait closed by a resolve counts from itself, not from
        # the unanswered text before the resolve.
        armed = None if job.message_id is None else await self._store.get_message(job.message_id)
        since = max(waiting.created_at, armed.created_at if armed else waiting.created_at)
        minutes = sla.first_response_minutes
        away = await self._store.away()
        deadline = business_deadline(
            self._business, conversation.business_number, since, minutes, away
        )
        now = utcnow()
        if deadline is None:  # away with no end: look again in a while
            raise RetryLater("closed until further notice", after=minutes * 60, throttled=True)
        if now < deadline:
            wait = (deadline - now).total_seconds()
            raise RetryLater(f"due at {deadline.isoformat()}", after=wait, throttled=True)
        breach = SlaBreached(
            conversation_id=conversation.id,
            message_id=waiting.id,
            since=since,
            deadline=deadline,
            minutes=minutes,
            notify=self._targets(sla, conversation),
            route=sla.escalate.route if sla.escalate.route != conversation.team else None,
        )
        if await self._store.record_breach(breach):
            self._on_enqueued()

    def _targets(self, sla: SlaSetting, conversation: Conversation) -> tuple[str, ...]:
        """The Slack ids `escalate.notify` stands for now, each once; the assignee only
        when there is one."""
        named = {"assignee": conversation.assignee, "on_call": self._notifications.on_call}
        found = (named.get(target, target) for target in sla.escalate.notify)
        return tuple(dict.fromkeys(target for target in found if target))
