"""Job TELL_AGENT: an ephemeral note, in the thread, to the agent who needs it. A note
about a held reply carries the buttons to edit it into support-only or cancel it."""

from __future__ import annotations

from typing import Any

import structlog

from bridge.delivery.errors import GiveUp
from bridge.events import load_event
from bridge.models import DeliveryStatus, Job
from bridge.slack.gateway import SlackGateway
from bridge.slack.mrkdwn import escape
from bridge.slack.threads import ThreadKeeper
from bridge.slack.wording import event_text
from bridge.store.base import MessageStore
from bridge.text import clip

log = structlog.get_logger(__name__)

EDIT_ACTION = "held_edit"
CANCEL_ACTION = "held_cancel"


def held_blocks(note: str, message_id: str) -> list[dict[str, Any]]:
    """`note`: mrkdwn, escaped already."""
    return [
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": clip(f":pause_button: {note}", 3000)},
        },
        {
            "type": "actions",
            "block_id": "held_reply",
            "elements": [
                {
                    "type": "button",
                    "action_id": EDIT_ACTION,
                    "text": {"type": "plain_text", "text": "Edit as support-only"},
                    "style": "primary",
                    "value": message_id,
                },
                {
                    "type": "button",
                    "action_id": CANCEL_ACTION,
                    "text": {"type": "plain_text", "text": "Cancel"},
                    "style": "danger",
                    "value": message_id,
                },
            ],
        },
    ]


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
        if job.message_id is not None:
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
