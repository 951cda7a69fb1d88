"""Job WEBHOOK: one event, with its conversation and message as the store has them
now, handed to the webhook sender. Each delivery is a job of its own, retried by the
outbox with backoff; a dead one is reported in the inbox channel like every dead job."""

from __future__ import annotations

from typing import Any, Protocol

from bridge.delivery.errors import GiveUp
from bridge.jobs import WebhookDelivery
from bridge.models import Conversation, Job, Message
from bridge.notify.webhook_sender import WebhookSender
from bridge.store.base import ContactStore, ConversationStore, MessageStore


class _Store(ConversationStore, MessageStore, ContactStore, Protocol):
    """The store roles this module uses."""


def conversation_document(conversation: Conversation, name: str | None) -> dict[str, Any]:
    return {
        "id": conversation.id,
        "channel": conversation.channel.value,
        "business_number": conversation.business_number,
        "subscriber": conversation.subscriber,
        "name": name,
        "status": conversation.status.value,
        "assignee": conversation.assignee,
        "flagged": conversation.flagged,
        "created_at": conversation.created_at.isoformat(),
        "last_activity_at": conversation.last_activity_at.isoformat(),
    }


def message_document(message: Message) -> dict[str, Any]:
    return {
        "id": message.id,
        "direction": message.direction.value,
        "body": message.body,
        "media": len(message.media),
        "keyword": message.keyword.value if message.keyword else None,
        "intent": message.intent,
        "urgency": message.urgency,
        "created_at": message.created_at.isoformat(),
    }


class WebhookDeliveries:
    def __init__(self, store: _Store, sender: WebhookSender) -> None:
        self._store = store
        self._sender = sender

    async def __call__(self, job: Job) -> None:
        if not job.note:
            raise GiveUp("webhook job without its event")
        delivery = WebhookDelivery.model_validate_json(job.note)
        conversation = None
        if job.conversation_id is not None:
            found = await self._store.get_conversation(job.conversation_id)
            if found is not None:
                contact = await self._store.get_contact(found.subscriber)
                conversation = conversation_document(found, contact.name if contact else None)
        message = await self._store.get_message(job.message_id) if job.message_id else None
        await self._sender.send(
            delivery.webhook,
            delivery.event.type,
            conversation,
            message_document(message) if message else None,
            job.key,
            delivery.at,
        )
