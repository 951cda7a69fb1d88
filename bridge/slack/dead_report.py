"""Job REPORT_DEAD: tell the inbox channel that a job gave up, with what it carried,
so a text that could not be threaded is still in front of people."""

from __future__ import annotations

from bridge.models import Job
from bridge.mrkdwn import escape
from bridge.phones import display
from bridge.slack.gateway import SlackGateway
from bridge.store.base import Store


class DeadReport:
    def __init__(self, store: Store, gateway: SlackGateway, inbox_channel: str) -> None:
        self._store = store
        self._gateway = gateway
        self._inbox = inbox_channel

    async def __call__(self, job: Job) -> None:
        lines = [f":warning: The bridge gave up on a task ({escape(job.note or 'no reason')})."]
        message = await self._store.get_message(job.message_id) if job.message_id else None
        if message is not None:
            conversation = await self._store.get_conversation(message.conversation_id)
            who = display(conversation.subscriber) if conversation else "unknown sender"
            stamp = message.created_at.strftime("%Y-%m-%d %H:%M UTC")
            lines.append(f"Text from {who} (#{message.conversation_id}) at {stamp}:")
            lines.append(f">{escape(message.body)}")
        await self._gateway.post_message(self._inbox, "\n".join(lines))
