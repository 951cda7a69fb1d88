"""Job TELL_AGENT: an ephemeral note, in the thread, to the agent who needs it."""

from __future__ import annotations

from bridge.delivery.errors import GiveUp
from bridge.models import Job
from bridge.slack.gateway import SlackGateway
from bridge.slack.threads import ThreadKeeper


class AgentNote:
    def __init__(self, gateway: SlackGateway, threads: ThreadKeeper) -> None:
        self._gateway = gateway
        self._threads = threads

    async def __call__(self, job: Job) -> None:
        if job.conversation_id is None or job.user is None or not job.note:
            raise GiveUp("agent note without a conversation, user or text")
        conversation = await self._threads.conversation(job.conversation_id)
        if conversation.slack_channel is None:
            return  # no thread to speak in
        await self._gateway.post_ephemeral(
            conversation.slack_channel, job.user, job.note, conversation.slack_thread_ts
        )
