"""Routing by topic: the settings refuse what cannot work with the key's path, and the
router picks the first rule that matches (keywords as words, regex, the assistant's
intent and urgency, the business number, the channel, the contact's tags)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.config import ConfigError, load_business_config
from bridge.events import ConversationRouted
from bridge.models import Channel
from bridge.routing_settings import RoutingSection
from bridge.slack.blocks.wording import routed_text
from bridge.threading.contacts import read_contacts
from bridge.threading.routing import DEFAULT_RULE, Decision, Facts, Router

NUMBER = "+15005550006"
TEAMS = {
    "sales": {"channel": "C0SALES", "members": ["U0AAA", "U0BBB"], "assign": "round_robin"},
    "support": {"channel": "C0SUPPORT", "user_group": "S0SUPPORT", "assign": "least_open"},
    "vip": {"channel": "G0VIP"},
}
RULES = [
    {"match": {"keywords": ["price", "quote", "order"]}, "team": "sales"},
    {"match": {"intent": ["support"]}, "team": "support"},
    {"match": {"tags": ["VIP"]}, "team": "vip"},
    {"match": {"regex": r"\brefund\w*", "urgency": ["urgent"]}, "team": "support"},
    {"match": {"channel": ["whatsapp"], "business_number": ["+1 500 555 0007"]}, "team": "vip"},
]


def router(**routing: object) -> Router:
    return Router(RoutingSection.model_validate({"teams": TEAMS, "rules": RULES} | routing))


def facts(text: str, **more: object) -> Facts:
    return Facts(**{"text": text, "business_number": NUMBER, "channel": Channel.SMS} | more)  # type: ignore[arg-type]


def test_keywords_match_whole_words_whatever_the_case() -> None:
    decision = router().route(facts("How much is a QUOTE for 20 cakes?"))
    assert decision == Decision("sales", "rule 1: keywords price, quote, order")
    assert router().route(facts("the quotes are in; disorder")) is None


def test_first_match_wins_and_the_default_team_catches_the_rest() -> None:
    both = facts("what is the price? my oven broke", intent="support")
    assert router().route(both) == Decision("sales", "rule 1: keywords price, quote, order")
    assert router().route(facts("hello", intent="support")).team == "support"  # type: ignore[union-attr]
    assert router(default_team="support").route(facts("hello")) == Decision("support", DEFAULT_RULE)


def test_every_condition_of_a_rule_must_hold() -> None:
    assert router().route(facts("I want a refund", urgency="normal")) is None
    assert router().route(facts("REFUNDS now", urgency="urgent")).team == "support"  # type: ignore[union-attr]
    whatsapp = facts("hi", channel=Channel.WHATSAPP, business_number="+15005550007")
    assert router().route(whatsapp).team == "vip"  # type: ignore[union-attr]
    assert router().route(facts("hi", business_number="+15005550007")) is None


def test_tags_match_any_of_the_contacts_tags() -> None:
    assert router().route(facts("hi", tags=frozenset({"regulars", "vip"}))).team == "vip"  # type: ignore[union-attr]
    assert router().route(facts("hi", tags=frozenset({"regulars"}))) is None


def test_no_routing_config_routes_nothing() -> None:
    assert not Router(RoutingSection()).active
    assert Router(RoutingSection()).route(facts("a quote please")) is None
    assert router().active


@pytest.mark.parametrize(
    ("routing", "message"),
    [
        (
            "rules:\n  - {match: {keywords: [a]}, team: sales}\n"
            "  - {match: {keywords: [b]}, team: sales}\n"
            "  - {match: {regex: 'price('}, team: sales}\n",
            r"routing.rules[2].match.regex: 'price(' is not a regular expression",
        ),
        (
            "rules:\n  - {match: {keywords: [a]}, team: sales}\n"
            "  - {match: {intent: [support]}, team: helpdesk}\n",
            "routing.rules[1].team: unknown team 'helpdesk' (teams: sales)",
        ),
        ("default_team: nobody\n", "routing.default_team: unknown team 'nobody'"),
        (
            "teams:\n  sales: {channel: '#sales'}\n",
            "routing.teams.sales.channel: '#sales' is not a Slack channel ID",
        ),
        (
            "teams:\n  sales: {channel: C0SALES, assign: random}\n",
            "routing.teams.sales.assign: must be one of 'none', 'round_robin' or 'least_open'",
        ),
        (
            "teams:\n  sales: {channel: C0SALES, user_group: sales-team}\n",
            "routing.teams.sales.user_group: 'sales-team' is not a Slack user group ID",
        ),
        (
            "teams:\n  sales: {channel: C0SALES, assign: round_robin}\n",
            "routing.teams.sales.assign: round_robin needs members or a user_group",
        ),
        (
            "rules:\n  - {match: {}, team: sales}\n",
            "routing.rules[0].match: name at least one of",
        ),
        (
            "rules:\n  - {match: {intent: [gossip]}, team: sales}\n",
            "routing.rules[0].match.intent[0]: must be one of",
        ),
    ],
)
def test_bad_routing_is_refused_with_one_line_naming_the_key(
    tmp_path: Path, routing: str, message: str
) -> None:
    path = tmp_path / "bridge.yml"
    teams = "" if routing.startswith("teams:") else "teams:\n  sales: {channel: C0SALES}\n"
    indented = "".join(f"  {line}\n" for line in (teams + routing).splitlines())
    path.write_text(f"routing:\n{indented}")
    with pytest.raises(ConfigError) as caught:
        load_business_config(path)
    assert len(caught.value.problems) == 1
    assert caught.value.problems[0].removeprefix(f"BRIDGE_CONFIG {path}: ").startswith(message)


def test_a_contacts_file_gives_tags_space_or_semicolon_separated() -> None:
    rows, problems = read_contacts(
        [
            "phone,name,tags\n",
            "(415) 555-0123,Ana,VIP; regulars  wholesale;vip\n",
            "+14155550124,Ben,\n",
        ]
    )
    assert problems == []
    assert [row.contact.tags for row in rows] == [("vip", "regulars", "wholesale"), ()]
    assert "tags" not in rows[0].contact.fields


def test_the_routing_note_names_the_rule_escaped() -> None:
    routing = RoutingSection.model_validate(
        {"teams": TEAMS, "rules": [{"match": {"regex": "<!channel>|<@U0"}, "team": "sales"}]}
    )
    decision = Router(routing).route(facts("hi <!channel>"))
    assert decision is not None
    note = routed_text(
        ConversationRouted(conversation_id=1, team=decision.team, rule=decision.rule)
    )
    assert note.endswith("Routed to *sales* · rule 1: regex &lt;!channel&gt;|&lt;@U0")
    moved = routed_text(
        ConversationRouted(conversation_id=1, team="a<b", by="U0ANA", earlier_thread="https://x/p1")
    )
    assert "*a&lt;b* by <@U0ANA> · <https://x/p1|earlier messages>" in moved
