"""Which team a conversation belongs to: the routing rules, first match wins, then
`routing.default_team`. Pure: the rules are compiled once at start (one regex per
rule for its keywords) and each decision reads only the facts it is given."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from bridge.models import Channel, Intent, Urgency
from bridge.routing_settings import Match, RoutingSection


@dataclass(frozen=True)
class Facts:
    """What the rules may look at: the conversation's first text and its addresses."""

    text: str
    business_number: str
    channel: Channel
    intent: Intent | None = None  # None: the assistant had not read the text in time
    urgency: Urgency | None = None
    tags: frozenset[str] = field(default_factory=frozenset)  # the contact's, lower case


@dataclass(frozen=True)
class Decision:
    team: str
    rule: str  # which rule decided, in the config's terms: "rule 1: keywords price, quote"


Test = Callable[[Facts], bool]

DEFAULT_RULE = "routing.default_team"


def _words(words: list[str]) -> re.Pattern[str]:
    """Any of the words as a whole word (or phrase), whatever the case."""
    alternatives = "|".join(re.escape(word.strip()) for word in words)
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


def _tests(match: Match) -> list[Test]:
    tests: list[Test] = []
    if match.intent is not None:
        intents = frozenset(match.intent)
        tests.append(lambda facts: facts.intent in intents)
    if match.urgency is not None:
        urgencies = frozenset(match.urgency)
        tests.append(lambda facts: facts.urgency in urgencies)
    if match.business_number is not None:
        numbers = frozenset(match.business_number)
        tests.append(lambda facts: facts.business_number in numbers)
    if match.channel is not None:
        channels = frozenset(match.channel)
        tests.append(lambda facts: facts.channel in channels)
    if match.tags is not None:
        tags = frozenset(tag.casefold() for tag in match.tags)
        tests.append(lambda facts: not tags.isdisjoint(facts.tags))
    # Searching the text costs most: last, so a rule whose cheap conditions fail skips it.
    if match.keywords is not None:
        keywords = _words(match.keywords)
        tests.append(lambda facts: keywords.search(facts.text) is not None)
    if match.regex is not None:
        pattern = re.compile(match.regex, re.IGNORECASE)
        tests.append(lambda facts: pattern.search(facts.text) is not None)
    return tests


def describe(match: Match) -> str:
    """A rule's conditions as the config names them: "keywords price, quote"."""
    parts = []
    for name, value in match.model_dump(exclude_none=True, mode="json").items():
        shown = ", ".join(str(item) for item in value) if isinstance(value, list) else value
        parts.append(f"{name} {shown}")
    return " · ".join(parts)


@dataclass(frozen=True)
class _Compiled:
    team: str
    rule: str
    tests: tuple[Test, ...]


class Router:
    def __init__(self, routing: RoutingSection) -> None:
        self._rules = tuple(
            _Compiled(
                rule.team, f"rule {number}: {describe(rule.match)}", tuple(_tests(rule.match))
            )
            for number, rule in enumerate(routing.rules, start=1)
        )
        self._default = routing.default_team
        self.active = routing.active

    def route(self, facts: Facts) -> Decision | None:
        """The first rule all of whose conditions hold, else the default team; None
        when neither (the conversation stays in the inbox channel)."""
        for rule in self._rules:
            if all(test(facts) for test in rule.tests):
                return Decision(rule.team, rule.rule)
        if self._default is not None:
            return Decision(self._default, DEFAULT_RULE)
        return None
