"""Job MARK_DELIVERY: a reply's final state on the agent's own Slack message — a
reaction — and, when it failed, the reason in words in the thread."""

from __future__ import annotations

import contextlib

from bridge.models import DeliveryStatus, Job
from bridge.phones import display
from bridge.slack.gateway import SlackGateway, ThreadGone
from bridge.slack.job_message import job_message
from bridge.slack.threads import ThreadKeeper
from bridge.store.base import Store
from bridge.threading.send_errors import reason

REACTIONS = {
    DeliveryStatus.DELIVERED: "white_check_mark",
    DeliveryStatus.UNDELIVERED: "warning",
    DeliveryStatus.FAILED: "warning",
    DeliveryStatus.BLOCKED: "no_entry_sign",
}


class DeliveryMark:
    def __init__(self, store: Store, gateway: SlackGateway, threads: ThreadKeeper) -> None:
        self._store = store
        self._gateway = gateway
        self._threads = threads

    async def __call__(self, job: Job) -> None:
        message = await job_message(self._store, job)
        reaction = REACTIONS.get(message.status)
        if reaction is None:
            return
        # The bridge's own texts (confirmations, HELP answers) have no Slack message.
        if message.slack_channel is not None and message.slack_ts is not None:
            with contextlib.suppress(ThreadGone):  # the agent deleted it: nothing to mark
                await self._gateway.add_reaction(message.slack_channel, message.slack_ts, reaction)
        if message.status in {DeliveryStatus.FAILED, DeliveryStatus.UNDELIVERED}:
            conversation = await self._threads.conversation(message.conversation_id)
            note = (
                f":warning: Not delivered to {display(conversation.subscriber)}: "
                f"{reason(message.error_code)}."
            )
            await self._threads.post(conversation, note, key=f"undelivered:{message.id}")
