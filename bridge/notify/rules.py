"""Which rules hold for one happening: a table by event name, then each rule's `when`
(all of its filters, any value of each). Pure and cheap: it runs for every text."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from bridge.notification_settings import NotificationRule


@dataclass(frozen=True)
class Happening:
    """What the rules may ask of a happening."""

    event: str
    urgency: str | None = None
    intent: str | None = None
    team: str | None = None
    open: bool | None = None  # the business's hours now


class RuleBook:
    def __init__(self, rules: Sequence[NotificationRule]) -> None:
        self._by_event: dict[str, list[NotificationRule]] = defaultdict(list)
        for rule in rules:
            for event in rule.on:
                self._by_event[event].append(rule)

    @property
    def events(self) -> frozenset[str]:
        return frozenset(self._by_event)

    def matching(self, facts: Happening) -> list[NotificationRule]:
        return [rule for rule in self._by_event.get(facts.event, ()) if _holds(rule, facts)]


def _holds(rule: NotificationRule, facts: Happening) -> bool:
    when = rule.when
    if when.urgency is not None and facts.urgency not in when.urgency:
        return False
    if when.intent is not None and facts.intent not in when.intent:
        return False
    if when.team is not None and facts.team not in when.team:
        return False
    return when.hours is None or facts.open is (when.hours == "open")
