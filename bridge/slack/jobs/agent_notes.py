"""Job TELL_AGENT: an ephemeral note, in the thread, to the agent who needs it. A note
about a held reply carries the buttons to edit it into support-only or cancel it; the
offer to teach the assistant carries its button."""

from __future__ import annotations

import structlog

from bridge.delivery.errors import GiveUp
from bridge.events import TeachOffered, load_event
from bridge.models import DeliveryStatus, Job
from bridge.slack.blocks.held_note import held_blocks
from bridge.slack.blocks.mrkdwn import escape
from bridge.slack.blocks.teach import offer_blocks
from bridge.slack.blocks.wording import event_text
from bridge.slack.gateway import SlackGateway
from bridge.slack.threads import ThreadKeeper
from bridge.store.base import MessageStore

log = structlog.get_logger(__name__)


class AgentNote:
    def __init__(self, store: MessageStore, gateway: SlackGateway, threads: ThreadKeeper) -> None:
        self._store = store
        self._gateway = gateway
        self._threads = threads

    async def __call__(self, job: Job) -> None:
        if job.conversation_id is None or job.user is None or not job.note:
            raise GiveUp("agent note without a conversation, user or text")
        conversation = await self._threads.conversation(job.conversation_id)
        if conversation.slack_channel is None:
            return  # no thread to speak in
        event = load_event(job.note)
        # A job of an earlier release carries its note ready, not yet escaped for blocks.
        text, shown = (job.note, escape(job.note)) if event is None else (event_text(event),) * 2
        blocks = None
        if isinstance(event, TeachOffered):
            blocks = offer_blocks(shown, event.message_id)
        elif job.message_id is not None:
            held = await self._store.get_message(job.message_id)
            if held is None or held.status is not DeliveryStatus.HELD:
                return  # decided already
            blocks = held_blocks(shown, held.id)
        try:
            await self._gateway.post_ephemeral(
                conversation.slack_channel,
                job.user,
                text,
                conversation.slack_thread_ts,
                blocks=blocks,
            )
        except GiveUp as exc:
            # Someone Slack cannot show a note to (not in the channel): nothing to report.
            log.info("slack.note_not_shown", conversation=conversation.id, error=str(exc))
