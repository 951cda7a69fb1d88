"""Start-up failures an operator can cause: `serve` and `connect` refuse in one line
naming the cause (exit 2), and `check` runs the same validation and lists every problem."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from tests.e2e.cli_run import closed_port, minimal_env, one_line_failure, run

pytestmark = pytest.mark.e2e

# pydantic's own words, which name no setting and mean little to an operator
PYDANTIC_WORDING = ("Input should", "relative URL without a base", "For further information")


def broken_knowledge(tmp_path: Path, kind: str) -> Path:
    """A business config whose knowledge base is missing or has a YAML syntax error."""
    folder = tmp_path / "conf"
    folder.mkdir()
    config = folder / "business.yml"
    config.write_text("knowledge:\n  path: kb\n", encoding="utf-8")
    if kind == "yaml":
        (folder / "kb").mkdir()
        (folder / "kb" / "faq.yml").write_text("- q: Open?\n  a: [unclosed\n", encoding="utf-8")
    return config


@pytest.mark.parametrize("kind", ["missing", "yaml"])
def test_check_and_serve_refuse_a_broken_knowledge_base(tmp_path: Path, kind: str) -> None:
    env = minimal_env(tmp_path) | {"BRIDGE_CONFIG": str(broken_knowledge(tmp_path, kind))}
    named = "faq.yml" if kind == "yaml" else "kb"

    checked = run(["check"], env, tmp_path)
    assert checked.returncode == 2, checked.stdout + checked.stderr
    assert "✓ settings" not in checked.stdout
    problems = checked.stderr.strip().splitlines()
    assert len(problems) == 1, checked.stderr
    assert problems[0].startswith("sms-bridge: knowledge.path")
    assert named in problems[0]

    line = one_line_failure(run(["serve"], env, tmp_path))
    assert line.startswith("sms-bridge: knowledge.path")
    assert named in line


def test_check_lists_every_problem_at_once(tmp_path: Path) -> None:
    config = tmp_path / "business.yml"
    config.write_text("business:\n  nmae: typo\n", encoding="utf-8")
    env = {k: v for k, v in minimal_env(tmp_path).items() if k != "SLACK_BOT_TOKEN"} | {
        "TWILIO_FROM_NUMBER": "555-1234",
        "BRIDGE_PUBLIC_URL": "http://sms.example.test",
        "MONGODB_URI": "notauri",
        "PORT": "eighty",
        "BRIDGE_CONFIG": str(config),
    }
    checked = run(["check"], env, tmp_path)
    assert checked.returncode == 2, checked.stdout + checked.stderr
    lines = checked.stderr.strip().splitlines()
    assert all(line.startswith("sms-bridge: ") for line in lines), checked.stderr
    for setting in (
        "SLACK_BOT_TOKEN",
        "TWILIO_FROM_NUMBER",
        "BRIDGE_PUBLIC_URL",
        "MONGODB_URI",
        "PORT",
        "BRIDGE_CONFIG",
    ):
        assert any(line.startswith(f"sms-bridge: {setting}") for line in lines), (setting, lines)
    assert not any(words in checked.stderr for words in PYDANTIC_WORDING), checked.stderr


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"SLACK_BOT_TOKEN": ""}, "SLACK_BOT_TOKEN"),
        ({"BRIDGE_DB_PATH": "/nonexistent/dir/bridge.db"}, "BRIDGE_DB_PATH"),
        ({"BRIDGE_CONFIG": "/nonexistent.yml"}, "BRIDGE_CONFIG"),
        ({"TWILIO_FROM_NUMBER": "555-1234"}, "TWILIO_FROM_NUMBER"),
        ({"BRIDGE_PUBLIC_URL": "http://sms.example.test"}, "BRIDGE_PUBLIC_URL"),
        ({"BRIDGE_PUBLIC_URL": "nope"}, "BRIDGE_PUBLIC_URL"),
        ({"SLACK_API_URL": "slack.com/api"}, "SLACK_API_URL"),
        ({"PORT": "eighty"}, "PORT"),
        ({"BRIDGE_LOG_LEVEL": "loud"}, "BRIDGE_LOG_LEVEL"),
        ({"MONGODB_URI": "notauri"}, "MONGODB_URI"),
        ({"MONGODB_URI": "mongodb://user:p@ss@db.example.test/x"}, "MONGODB_URI"),
        ({"MONGODB_URI": "mongodb://db.example.test:99999999/x"}, "MONGODB_URI"),
    ],
)
def test_serve_refuses_malformed_settings_at_once_in_words(
    tmp_path: Path, change: dict[str, str], expected: str
) -> None:
    env = minimal_env(tmp_path) | change
    started = time.monotonic()
    line = one_line_failure(run(["serve"], {k: v for k, v in env.items() if v}, tmp_path))
    assert time.monotonic() - started < 20  # refused, not tried for a server-selection timeout
    assert line.startswith(f"sms-bridge: {expected}")
    assert not any(words in line for words in PYDANTIC_WORDING), line
    assert "p@ss" not in line  # a password is never echoed


def test_serve_with_mongodb_unreachable_stops_soon_in_one_line(tmp_path: Path) -> None:
    env = minimal_env(tmp_path) | {"MONGODB_URI": f"mongodb://127.0.0.1:{closed_port()}/bridge"}
    started = time.monotonic()
    line = one_line_failure(run(["serve"], env, tmp_path, timeout=90))
    assert time.monotonic() - started < 25  # the driver alone would wait 30 s
    assert line.startswith("sms-bridge: MONGODB_URI")
    assert len(line) < 300, line  # the cause, not the driver's topology dump


def test_serve_on_a_port_in_use_says_so_in_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = minimal_env(tmp_path) | {"BRIDGE_HOST": "127.0.0.1", "PORT": str(port)}
        line = one_line_failure(run(["serve"], env, tmp_path))
    assert "PORT" in line
    assert str(port) in line


def test_connect_with_twilio_unreachable_says_so_in_one_line(tmp_path: Path) -> None:
    line = one_line_failure(run(["connect"], minimal_env(tmp_path), tmp_path))
    assert "TWILIO_API_URL" in line


def test_serve_on_a_damaged_database_file_says_so_in_one_line(tmp_path: Path) -> None:
    damaged = tmp_path / "bridge.db"
    damaged.write_bytes(b"not a database, " * 512)
    env = minimal_env(tmp_path) | {"BRIDGE_DB_PATH": str(damaged)}
    line = one_line_failure(run(["serve"], env, tmp_path))
    assert line.startswith("sms-bridge: BRIDGE_DB_PATH")
    assert "not a database" in line
