"""The architecture is a test: the layers of DESIGN.md, read from the import graph
(grimp). Entry points → edges → domain → delivery → store → shared foundations →
models; a higher layer may import a lower one, never the reverse."""

from __future__ import annotations

import io
import re
import tokenize
from functools import cache
from pathlib import Path

import grimp
import pytest

import bridge

ENTRY = ("__main__", "cli", "checks", "connect", "sandbox", "app", "preflight")
EDGES = ("slack", "sms", "ops", "notify")
DOMAIN = ("threading", "ai", "compliance")
FOUNDATION = (
    "config",
    "metrics",
    "logs",
    "jobs",
    "text",
    "templates",
    "phones",
    "setting_errors",
    "service_errors",
    "console_marks",
)
LAYERS = (
    grimp.Layer("__main__"),
    grimp.Layer("cli"),
    grimp.Layer("checks", "connect", "sandbox", independent=False),
    grimp.Layer("app"),
    grimp.Layer("preflight"),
    grimp.Layer(*EDGES, independent=False),
    # `ai` and `threading` still import each other (issue 13 breaks that loop).
    grimp.Layer(*DOMAIN, independent=False),
    grimp.Layer("delivery"),
    grimp.Layer("store"),
    grimp.Layer(*FOUNDATION, independent=False),
    grimp.Layer("events"),
    grimp.Layer("models"),
)
# Slack's markup in a string: a mention, a channel link, a special token, bold text.
SLACK_MARKUP = re.compile(r"<[@#!]|(?<![*\w])\*[^*\s][^*\n]*(?<!\s)\*(?![*\w])")
# The `/sms` parser reads Slack's text of a command (a mention arrives as <@U…>).
READS_SLACK_INPUT = {"threading/commands.py"}


@cache
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("bridge")


def _in(package: str) -> set[str]:
    return {m for m in graph().modules if m == package or m.startswith(package + ".")}


def test_every_package_has_a_layer() -> None:
    placed = {f"bridge.{name}" for name in (*ENTRY, *EDGES, *DOMAIN, *FOUNDATION)}
    placed |= {"bridge", "bridge.delivery", "bridge.store", "bridge.events", "bridge.models"}
    top_level = {".".join(m.split(".")[:2]) for m in graph().modules}
    assert top_level - placed == set()


def test_no_layer_imports_a_layer_above_it() -> None:
    illegal = graph().find_illegal_dependencies_for_layers(layers=LAYERS, containers={"bridge"})
    assert [f"{d.importer} → {d.imported}" for d in illegal] == []


def test_models_import_nothing_of_the_project() -> None:
    assert graph().find_modules_directly_imported_by("bridge.models") == set()


def test_only_the_cli_starts_the_sandbox() -> None:
    importers = set()
    for module in _in("bridge.sandbox"):
        importers |= graph().find_modules_that_directly_import(module)
    assert importers - _in("bridge.sandbox") == {"bridge.cli"}


@pytest.mark.parametrize("edge", ["bridge.slack", "bridge.sms", "bridge.notify", "bridge.sandbox"])
def test_the_domain_never_imports_an_edge(edge: str) -> None:
    for package in DOMAIN:
        assert not graph().chain_exists(f"bridge.{package}", edge, as_packages=True)


def test_slack_formatting_lives_in_the_slack_edge() -> None:
    assert "bridge.slack.mrkdwn" in graph().modules
    assert "bridge.mrkdwn" not in graph().modules
    for package in DOMAIN:
        assert not graph().chain_exists(f"bridge.{package}", "bridge.slack.mrkdwn")


def _writes(token: tokenize.TokenInfo) -> bool:
    """A string the code may write out: not a pattern (raw) nor a docstring."""
    prefix = token.string[: token.string.index(token.string[-1])].lower()
    return "r" not in prefix and not token.string.endswith(('"""', "'''"))


def _slack_markup(path: Path) -> list[str]:
    tokens = tokenize.generate_tokens(io.StringIO(path.read_text()).readline)
    return [
        f"{path.name}:{token.start[0]}: {token.string}"
        for token in tokens
        if token.type == tokenize.STRING and _writes(token) and SLACK_MARKUP.search(token.string)
    ]


def test_the_domain_writes_no_slack_markup() -> None:
    """The domain speaks in events and outcomes; `slack/` renders them."""
    root = Path(bridge.__file__).parent
    found = [
        hit
        for package in DOMAIN
        for path in sorted((root / package).rglob("*.py"))
        if path.relative_to(root).as_posix() not in READS_SLACK_INPUT
        for hit in _slack_markup(path)
    ]
    assert found == []


# A few of Twilio's error codes (bridge/sms/send_failures.py has them all).
TWILIO_CODES = {21211, 21610, 30003, 30007}
SPEAK_TWILIO = ("sms/", "sandbox/")  # the edge, and the emulator that plays Twilio


def test_only_the_twilio_edge_knows_its_error_codes() -> None:
    """The domain decides on a `SendFailure`; which code made it is Twilio's business."""
    root = Path(bridge.__file__).parent
    found = [
        f"{path.relative_to(root)}:{token.start[0]}"
        for path in sorted(root.rglob("*.py"))
        if not path.relative_to(root).as_posix().startswith(SPEAK_TWILIO)
        for token in tokenize.generate_tokens(io.StringIO(path.read_text()).readline)
        if token.type == tokenize.NUMBER
        and token.string.isdigit()
        and int(token.string) in TWILIO_CODES
    ]
    assert found == []
