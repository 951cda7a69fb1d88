"""What a notifier is: the events it wants, and how it tells people of one."""

from __future__ import annotations

from typing import Protocol

from bridge.events import Event
from bridge.models import Model


class Notifier(Protocol):
    @property
    def name(self) -> str:
        """Unique among the notifiers: it names their jobs (keep it once released)."""

    @property
    def wants(self) -> tuple[type[Model], ...]:
        """The event types it is told of."""

    async def notify(self, event: Event, key: str) -> None:
        """Tell people of `event`. `key` is the same on every retry of one delivery:
        what it sends, it sends once. Raise RetryLater or GiveUp as any job does."""
