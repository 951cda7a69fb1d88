"""A via: one way of telling people (a Slack DM, a mention in the thread, an email, a
webhook, a browser push). The rules decide who hears of what and when; a via only
delivers one alert, or one digest, under a key that is the same on every retry.

A new via is one class with `name`, `personal`, `send_alert` and `send_digest`, and
one line where the vias are listed (`notify/wiring.py: vias`); rules may name it once
its settings are there (`notification_settings.py`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from bridge.models import Alert, DigestPeriod, Model


class Digest(Model):
    """The alerts one person (or one shared place) gets together for one period."""

    period: DigestPeriod
    alerts: tuple[Alert, ...]

    @property
    def title(self) -> str:
        urgent = sum(alert.urgent for alert in self.alerts)
        count = f"{len(self.alerts)} notification" + ("s" if len(self.alerts) != 1 else "")
        return count + (f" ({urgent} urgent)" if urgent else "")


class Via(Protocol):
    @property
    def name(self) -> str:
        """How rules name it: slack_dm, slack_mention, email, webhook:<name>, web_push."""

    @property
    def personal(self) -> bool:
        """True: one delivery per person (a DM, an email, a push), and each person's
        preferences apply. False: one per happening for everyone it names (a post in
        the thread, a webhook)."""

    async def send_alert(self, to: tuple[str, ...], alert: Alert, key: str) -> None:
        """Deliver one alert to `to` (one Slack user id for a personal via; the ids to
        mention, users and user groups, for a shared one). Raise RetryLater or GiveUp
        as any job does; the caller records that it went out."""

    async def send_digest(self, to: tuple[str, ...], digest: Digest, key: str) -> None:
        """Deliver one digest, as `send_alert` does."""


class Vias:
    """The vias this configuration has, by name."""

    def __init__(self, vias: Iterable[Via]) -> None:
        self._by_name: dict[str, Via] = {}
        for via in vias:
            if via.name in self._by_name:
                raise ValueError(f"two vias are called {via.name!r}")
            self._by_name[via.name] = via

    def get(self, name: str) -> Via | None:
        return self._by_name.get(name)
