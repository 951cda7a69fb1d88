"""Routing benchmark: one routing decision with 10 rules, the worst case (no rule
matches, so every rule is tried, then the default team).

    .venv/bin/python bench/routing.py

Prints microseconds per text (the best of five runs of 20,000 texts each); the
issue's budget is 50 µs.
"""

from __future__ import annotations

import timeit

from bridge.models import Channel
from bridge.routing_settings import RoutingSection
from bridge.threading.routing import Facts, Router

TEAMS = {
    "sales": {"channel": "C0SALES", "members": ["U0AAA"]},
    "support": {"channel": "C0SUPPORT", "members": ["U0BBB"]},
}
RULES = [
    {"match": {"keywords": ["price", "quote", "order", "catering"]}, "team": "sales"},
    {"match": {"regex": r"\b(invoice|receipt|bill)s?\b"}, "team": "sales"},
    {"match": {"intent": ["sales", "order"]}, "team": "sales"},
    {"match": {"intent": ["support"], "urgency": ["urgent"]}, "team": "support"},
    {"match": {"keywords": ["broken", "refund", "late", "missing"]}, "team": "support"},
    {"match": {"business_number": ["+15005550007"]}, "team": "support"},
    {"match": {"channel": ["whatsapp"], "tags": ["wholesale"]}, "team": "sales"},
    {"match": {"tags": ["vip", "press"]}, "team": "support"},
    {"match": {"regex": r"gluten|vegan|allerg"}, "team": "support"},
    {"match": {"keywords": ["wedding", "birthday cake"], "urgency": ["low"]}, "team": "sales"},
]
TEXT = (
    "Hi! I was wondering whether you could tell me what time you open on Saturday "
    "morning, and if the sourdough is usually still there around noon? Thanks a lot"
)
RUNS, TEXTS = 5, 20_000


def main() -> None:
    routing = RoutingSection.model_validate(
        {"teams": TEAMS, "rules": RULES, "default_team": "support"}
    )
    router = Router(routing)
    facts = Facts(
        text=TEXT,
        business_number="+15005550006",
        channel=Channel.SMS,
        intent="other",
        urgency="normal",
        tags=frozenset({"regulars"}),
    )
    assert router.route(facts) is not None
    best = min(timeit.repeat(lambda: router.route(facts), number=TEXTS, repeat=RUNS))
    print(f"routing: {len(RULES)} rules, no match (all tried): {best / TEXTS * 1e6:.1f} µs/text")


if __name__ == "__main__":
    main()
