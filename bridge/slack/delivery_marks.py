"""Job MARK_DELIVERY: a reply's final state on the agent's own Slack message (or the
card it was sent from) — a reaction — and, when it failed, the reason in words in the
thread. The marks are none of the reactions that act on a conversation: a teammate who
clicks the mark to agree (as people do in Slack) resolves nothing."""

from __future__ import annotations

import contextlib

from bridge.models import DeliveryStatus, Job
from bridge.phones import display
from bridge.slack.gateway import SlackGateway, ThreadGone
from bridge.slack.job_message import job_message
from bridge.slack.threads import ThreadKeeper
from bridge.store.base import MessageStore
from bridge.threading.send_errors import reason

DELIVERED = "envelope_with_arrow"  # 📩: the phone has it
REACTIONS = {
    DeliveryStatus.DELIVERED: DELIVERED,
    DeliveryStatus.UNDELIVERED: "warning",
    DeliveryStatus.FAILED: "warning",
    DeliveryStatus.BLOCKED: "no_entry_sign",
}
MARKS = frozenset(REACTIONS.values())


class DeliveryMark:
    def __init__(self, store: MessageStore, gateway: SlackGateway, threads: ThreadKeeper) -> None:
        self._store = store
        self._gateway = gateway
        self._threads = threads

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
            note = (
                f":warning: Not delivered to {display(conversation.subscriber)}: "
                f"{reason(message.error_code)}."
            )
            await self._threads.post(conversation, note, key=f"undelivered:{message.id}")
