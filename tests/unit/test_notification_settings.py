"""`notifications:` is checked at load: a rule naming what does not exist, or an SMTP URL
without a host, stops the bridge with one line naming the key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from bridge.config import ConfigError, load_business_config

EMAIL = {"smtp_url": "smtp://bridge:secret@mail.example:587", "from": "bridge@example.com"}
RULE = {"on": "message.received", "notify": ["assignee"], "via": ["slack_dm"]}


ROUTING = {"teams": {"support": {"channel": "C0SUPPORT", "members": ["U0AAA"]}}}


def load(tmp_path: Path, notifications: dict[str, Any]) -> Any:
    path = tmp_path / "config.yml"
    path.write_text(yaml.safe_dump({"notifications": notifications, "routing": ROUTING}))
    return load_business_config(path).notifications


def problems(tmp_path: Path, notifications: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, notifications)
    return [line.split(": ", 1)[1] for line in caught.value.problems]


def test_the_interfaces_example_loads(tmp_path: Path) -> None:
    loaded = load(
        tmp_path,
        {
            "email": EMAIL,
            "webhooks": [
                {"name": "crm", "url": "https://crm.example/hooks/sms", "secret": "s" * 32}
            ],
            "on_call": "U0ONCALL",
            "rules": [
                {
                    "on": ["message.received"],
                    "when": {"urgency": "urgent"},
                    "notify": ["assignee", "on_call"],
                    "via": ["slack_dm", "email", "webhook:crm"],
                },
                {
                    "on": ["message.received"],
                    "digest_minutes": 30,
                    "notify": ["team"],
                    "via": ["slack_dm"],
                },
                {"on": "sla.breached", "notify": "S0LEADS", "via": "slack_mention"},
                {"on": "message.received", "when": {"hours": "closed"}, "digest": "at_opening"}
                | {"notify": ["U0BOSS"], "via": ["email"]},
            ],
        },
    )
    assert loaded.rules[0].when.urgency == ["urgent"]
    assert loaded.rules[1].digest_minutes == 30
    assert loaded.rules[2].notify == ["S0LEADS"]
    assert loaded.email.from_ == "bridge@example.com"


@pytest.mark.parametrize(
    ("notifications", "line"),
    [
        (
            {"rules": [RULE | {"on": ["message.recieved"]}]},
            "notifications.rules[0].on[0]: must be one of",
        ),
        (
            {"rules": [RULE | {"via": ["slack_dm", "pager"]}]},
            "notifications.rules[0].via[1]: unknown via 'pager'",
        ),
        (
            {"rules": [RULE | {"notify": ["bob"]}]},
            "notifications.rules[0].notify[0]: unknown target 'bob'",
        ),
        (
            {"rules": [RULE, RULE | {"via": ["webhook:crm"]}]},
            "notifications.rules[1].via[0]: no webhook named 'crm' in notifications.webhooks",
        ),
        (
            {"rules": [RULE | {"via": ["email"]}]},
            "notifications.rules[0].via[0]: email needs notifications.email",
        ),
        (
            {"rules": [RULE | {"via": ["web_push"]}]},
            "notifications.rules[0].via[0]: web_push needs notifications.web_push",
        ),
        (
            {"rules": [RULE | {"notify": ["on_call"]}]},
            "notifications.rules[0].notify[0]: on_call needs notifications.on_call",
        ),
        (
            {"email": EMAIL | {"smtp_url": "smtp:///"}},
            "notifications.email.smtp_url: must name a host",
        ),
        (
            {"email": EMAIL | {"smtp_url": "mail.example:25"}},
            "notifications.email.smtp_url: must start with smtp:// or smtps://",
        ),
        (
            {"rules": [RULE | {"digest_minutes": 5, "digest": "at_opening"}]},
            "notifications.rules[0]: give digest_minutes or digest: at_opening, not both",
        ),
        ({"on_call": "bob"}, "notifications.on_call: 'bob' is not a user ID"),
    ],
)
def test_errors_name_the_key(tmp_path: Path, notifications: dict[str, Any], line: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, notifications)
    [problem] = caught.value.problems
    assert line in problem
    assert "\n" not in problem


def test_the_smtp_password_is_not_in_the_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, {"email": EMAIL | {"smtp_url": "smtp://bridge:hunter2@/"}})
    assert "hunter2" not in str(caught.value.problems)


def test_a_bare_yaml_on_key_is_the_rules_events(tmp_path: Path) -> None:
    # YAML 1.1 (PyYAML) reads `on:` as the boolean true, as in the README's examples.
    path = tmp_path / "config.yml"
    path.write_text(
        "notifications:\n  rules:\n"
        "    - {on: [message.received], notify: [assignee], via: [slack_dm]}\n"
    )
    [rule] = load_business_config(path).notifications.rules
    assert rule.on == ["message.received"]


def test_a_rule_naming_a_team_routing_does_not_have_is_refused(tmp_path: Path) -> None:
    rule = RULE | {"when": {"team": ["sales"]}}
    assert problems(tmp_path, {"rules": [rule]}) == [
        "notifications.rules[0].when.team: no team 'sales' in routing.teams"
    ]


def test_a_personal_via_needs_someone_to_tell_and_a_webhook_does_not(tmp_path: Path) -> None:
    hook = {"name": "crm", "url": "https://crm.example/hooks/sms", "secret": "s" * 32}
    only_hook = {"on": "message.received", "via": ["webhook:crm"]}
    assert load(tmp_path, {"webhooks": [hook], "rules": [only_hook]}).rules[0].notify == []
    nobody = {"on": "message.received", "via": ["slack_dm"]}
    [problem] = problems(tmp_path, {"rules": [nobody]})
    assert problem.startswith("notifications.rules[0].notify: slack_dm needs someone to tell")
