"""`notifications.sla` and `notifications.on_call`: what loads, and what is refused with
one line naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.config import BusinessConfig, ConfigError, load_business_config


def load(tmp_path: Path, text: str) -> object:
    path = tmp_path / "bridge.yml"
    path.write_text(text)
    return load_business_config(path)


def test_the_sla_of_the_interfaces_example_loads(tmp_path: Path) -> None:
    config = load_business_config(None)
    assert config.notifications.sla is None  # off by default
    path = tmp_path / "bridge.yml"
    path.write_text(
        "notifications:\n  on_call: S0ONCALL\n"
        "  sla: {first_response_minutes: 15, escalate: {notify: [on_call, assignee, U0BOSS]}}\n"
    )
    sla = load_business_config(path).notifications.sla
    assert sla is not None
    assert sla.first_response_minutes == 15
    assert sla.escalate.notify == ["on_call", "assignee", "U0BOSS"]


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("  sla: {first_response_minutes: 0}\n", "notifications.sla.first_response_minutes"),
        ("  sla: {first_response_minutes: -5}\n", "notifications.sla.first_response_minutes"),
        ("  sla: {}\n", "notifications.sla.first_response_minutes"),
        (
            "  sla: {first_response_minutes: 15, escalate: {notify: [oncall]}}\n",
            "notifications.sla.escalate.notify",
        ),
        (
            "  sla: {first_response_minutes: 15, escalate: {notify: ['<@U0AAA>']}}\n",
            "notifications.sla.escalate.notify",
        ),
        (
            "  sla: {first_response_minutes: 15, escalate: {notify: [on_call]}}\n",
            "notifications.sla.escalate.notify: on_call needs notifications.on_call",
        ),
        ("  on_call: ana\n", "notifications.on_call"),
        ("  sla: {first_response_minutes: 15, escalate: {page: [U0AAA]}}\n", "escalate.page"),
    ],
)
def test_bad_sla_settings_are_refused_in_one_line_naming_the_key(
    tmp_path: Path, text: str, key: str
) -> None:
    with pytest.raises(ConfigError) as refused:
        load(tmp_path, "notifications:\n" + text)
    [line] = refused.value.args
    assert key in line
    assert "\n" not in line


def test_an_escalation_may_route_to_a_team_routing_has(tmp_path: Path) -> None:
    teams = "routing:\n  teams: {leads: {channel: C0LEADS, members: [U0LEAD]}}\n"
    sla = "notifications:\n  sla: {first_response_minutes: 15, escalate: {route: leads}}\n"
    config = load(tmp_path, teams + sla)
    assert isinstance(config, BusinessConfig)
    assert config.notifications.sla is not None
    assert config.notifications.sla.escalate.route == "leads"
    with pytest.raises(ConfigError) as refused:
        load(tmp_path, sla)
    assert "notifications.sla.escalate.route: no team 'leads' in routing.teams" in str(
        refused.value.args
    )
