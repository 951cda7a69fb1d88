"""Where a conversation's thread lives: its team's channel, decided by the routing rules
when its first thread is made, from the conversation's latest text (with the
assistant's intent and urgency when its draft came in time) and the contact's tags."""

from __future__ import annotations

from typing import Protocol

from bridge.models import Conversation, Direction
from bridge.routing_settings import RoutingSection
from bridge.store.base import ContactStore, MessageStore
from bridge.threading.routing import Decision, Facts, Router


class _Store(MessageStore, ContactStore, Protocol):
    """The store roles this module uses."""


class TeamRouting:
    def __init__(self, store: _Store, routing: RoutingSection) -> None:
        self._store = store
        self._teams = routing.teams
        self._router = Router(routing)

    async def decide(self, conversation: Conversation) -> Decision | None:
        """The team of a conversation that has no thread yet; None: the inbox channel."""
        if not self._router.active:
            return None  # no routing configured: no reads either
        latest = await self._store.recent_messages(conversation.id, limit=1)
        text = next((m for m in latest if m.direction is Direction.INBOUND), None)
        contact = await self._store.get_contact(conversation.subscriber)
        facts = Facts(
            text=text.body if text else "",
            business_number=conversation.business_number,
            channel=conversation.channel,
            intent=text.intent if text else None,
            urgency=text.urgency if text else None,
            tags=frozenset(contact.tags) if contact else frozenset(),
        )
        return self._router.route(facts)

    def channel(self, team: str) -> str:
        return self._teams[team].channel
