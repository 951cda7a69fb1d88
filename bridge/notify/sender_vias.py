"""The vias to receivers outside Slack: `webhook:<name>` (a signed POST to one of the
business's webhooks) and `web_push` (each of a person's subscribed browsers). Each
delivery is an ALERT or DIGEST job: retried with backoff by the outbox, and reported
in the inbox channel when it dies."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from bridge.models import Alert, Conversation, Message
from bridge.notify.via import Digest
from bridge.notify.web_push_sender import WebPushSender
from bridge.notify.webhook_sender import WebhookSender
from bridge.store.base import ContactStore, MessageStore

DIGEST_EVENT = "digest"


class _Store(MessageStore, ContactStore, Protocol):
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
        "team": conversation.team,
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


class WebhookVia:
    """One of `notifications.webhooks`: everyone the rule names is the receiver's
    business, so one delivery per happening (a digest: one POST listing them)."""

    personal = False

    def __init__(self, webhook: str, sender: WebhookSender, store: _Store) -> None:
        self.name = f"webhook:{webhook}"
        self._webhook = webhook
        self._sender = sender
        self._store = store

    async def _parts(self, alert: Alert) -> dict[str, Any]:
        """The event's conversation (as the rules saw it) and message, as INTERFACES.md
        gives the body."""
        conversation = None
        if alert.conversation is not None:
            contact = await self._store.get_contact(alert.conversation.subscriber)
            name = contact.name if contact else None
            conversation = conversation_document(alert.conversation, name)
        message = await self._store.get_message(alert.message_id) if alert.message_id else None
        return {
            "conversation": conversation,
            "message": message_document(message) if message else None,
        }

    async def send_alert(self, to: tuple[str, ...], alert: Alert, key: str) -> None:
        await self._sender.send(self._webhook, alert.event, await self._parts(alert), key, alert.at)

    async def send_digest(self, to: tuple[str, ...], digest: Digest, key: str) -> None:
        events = [
            {"event": alert.event, **await self._parts(alert), "at": alert.at.isoformat()}
            for alert in digest.alerts
        ]
        await self._sender.send(
            self._webhook, DIGEST_EVENT, {"events": events}, key, digest.period.due
        )


class WebPushVia:
    """`web_push`: a notification in each browser the person subscribed (`/sms push`)."""

    name = "web_push"
    personal = True

    def __init__(
        self,
        sender: WebPushSender,
        link: Callable[[Alert], Awaitable[str | None]],
        inbox_url: str,
    ) -> None:
        self._sender = sender
        self._link = link  # a click opens the thread
        self._inbox = inbox_url  # or, for a digest or a thread not posted yet, the inbox

    async def send_alert(self, to: tuple[str, ...], alert: Alert, key: str) -> None:
        url = await self._link(alert) or self._inbox
        for user in to:
            await self._sender.send(user, alert.title, alert.text, url, f"{key}:{user}")

    async def send_digest(self, to: tuple[str, ...], digest: Digest, key: str) -> None:
        lines = "\n".join(alert.title for alert in digest.alerts)
        for user in to:
            await self._sender.send(user, digest.title, lines, self._inbox, f"{key}:{user}")
