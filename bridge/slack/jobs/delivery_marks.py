"""Job MARK_DELIVERY: a reply's final state on the agent's own Slack message (or the
card it was sent from) — a reaction — and, when it failed, the reason in words in the
thread. The marks are none of the reactions that act on a conversation: a teammate who
clicks the mark to agree (as people do in Slack) resolves nothing."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from bridge.events import DeliveryFailed, SendFailure, load_event
from bridge.models import Conversation, DeliveryStatus, Job, Message
from bridge.slack.blocks.wording import event_text
from bridge.slack.gateway import SlackGateway, ThreadGone
from bridge.slack.jobs.job_message import job_message
from bridge.slack.threads import ThreadKeeper
from bridge.store.base import MessageStore

DELIVERED = "envelope_with_arrow"  # 📩: the phone has it
REACTIONS = {
    DeliveryStatus.DELIVERED: DELIVERED,
    DeliveryStatus.UNDELIVERED: "warning",
    DeliveryStatus.FAILED: "warning",
    DeliveryStatus.BLOCKED: "no_entry_sign",
}
MARKS = frozenset(REACTIONS.values())


class DeliveryMark:
    """`explain`: the provider's meaning of a stored error code, for the jobs an
    earlier release stored without their DeliveryFailed event."""

    def __init__(
        self,
        store: MessageStore,
        gateway: SlackGateway,
        threads: ThreadKeeper,
        explain: Callable[[int | None], SendFailure],
    ) -> None:
        self._store = store
        self._gateway = gateway
        self._threads = threads
        self._explain = explain

    async def __call__(self, job: Job) -> None:
        message = await job_message(self._store, job)
        reaction = REACTIONS.get(message.status)
        if reaction is None:
            return
        conversation = await self._threads.conversation(message.conversation_id)
        # A typed reply is its own message, a sent draft its card; the bridge's own
        # texts (confirmations, HELP answers) show nowhere to mark.
        channel = message.slack_channel or conversation.slack_channel
        ts = message.shown_ts or message.slack_ts  # what went out, where it differs
        if channel is not None and ts is not None:
            with contextlib.suppress(ThreadGone):  # deleted meanwhile: nothing to mark
                await self._gateway.add_reaction(channel, ts, reaction)
        if message.status in {DeliveryStatus.FAILED, DeliveryStatus.UNDELIVERED}:
            failed = self._failed(job, message, conversation)
            await self._threads.post(
                conversation, event_text(failed), key=f"undelivered:{message.id}"
            )

    def _failed(self, job: Job, message: Message, conversation: Conversation) -> DeliveryFailed:
        event = load_event(job.note)
        if isinstance(event, DeliveryFailed):
            return event
        return DeliveryFailed(
            conversation_id=conversation.id,
            message_id=message.id,
            subscriber=conversation.subscriber,
            failure=self._explain(message.error_code),
        )
