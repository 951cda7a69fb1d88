"""Notification rule evaluation: the time to decide which of 5 rules hold for one
happening (`RuleBook.matching`, what runs for every text), and the rules' timing of one
alert for one person (`rule_due` then `personal_due`).

    .venv/bin/python bench/notify_rules.py

Pure CPU, no I/O: the budget is 50 µs per text (issue 14, "Performance"). The store
write of a run of the rules is measured by bench/inbound.py's figures for a text's
write (one transaction either way)."""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime
from datetime import time as clock

from bridge.config import Business
from bridge.models import NotifyMode, NotifyPreferences
from bridge.notification_settings import NotificationsSection
from bridge.notify.rules import Happening, RuleBook
from bridge.notify.timing import personal_due, rule_due
from bridge.threading.opening_hours import opening

RULES = NotificationsSection.model_validate(
    {
        "on_call": "U0ONCALL",
        "rules": [
            {
                "on": "message.received",
                "when": {"urgency": "urgent"},
                "notify": "on_call",
                "via": ["slack_dm", "slack_mention"],
            },
            {
                "on": "message.received",
                "when": {"intent": ["sales", "order"], "hours": "open"},
                "notify": "assignee",
                "via": "slack_dm",
            },
            {
                "on": "message.received",
                "when": {"hours": "closed"},
                "digest": "at_opening",
                "notify": "on_call",
                "via": "slack_dm",
            },
            {"on": "message.received", "digest_minutes": 30, "notify": ["team"], "via": "slack_dm"},
            {
                "on": ["conversation.assigned", "conversation.flagged"],
                "notify": "assignee",
                "via": "slack_dm",
            },
        ],
    }
).rules
FACTS = [
    Happening("message.received", urgency="urgent", intent="order", team="support", open=False),
    Happening("message.received", urgency="normal", intent="sales", team="sales", open=True),
    Happening("message.received", urgency="low", intent="feedback", team=None, open=True),
    Happening("conversation.assigned"),
]
ROUNDS, PER_ROUND = 30, 10_000


def per_call_us(work: object, rounds: int = ROUNDS, count: int = PER_ROUND) -> list[float]:
    assert callable(work)
    results = []
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(count):
            work()
        results.append((time.perf_counter() - started) / count * 1e6)
    return results


def main() -> None:
    book = RuleBook(RULES)
    business = Business(timezone="America/Los_Angeles", hours={"mon-fri": "07:00-18:00"})
    now = datetime(2026, 3, 2, 20, 0, tzinfo=UTC)
    hours = opening(business, None, now)
    quiet = NotifyPreferences(
        mode=NotifyMode.URGENT_ONLY, quiet_from=clock(22), quiet_until=clock(7)
    )
    index = iter(range(10**9))

    def matching() -> None:
        book.matching(FACTS[next(index) % len(FACTS)])

    def timing() -> None:
        for rule in RULES[:4]:
            due = rule_due(rule, now, hours)
            personal_due(due, quiet, urgent=False, now=now, digest_minutes=60, business=business)

    def opening_hours() -> None:
        opening(business, "+14155550100", now)

    for name, work in (
        ("rules matched per happening (5 rules)", matching),
        ("timing of 4 rules for one person", timing),
        ("opening hours looked up (once per happening)", opening_hours),
    ):
        figures = per_call_us(work)
        print(
            f"{name}: median {statistics.median(figures):.2f} µs,"
            f" slowest round {max(figures):.2f} µs"
        )


if __name__ == "__main__":
    main()
