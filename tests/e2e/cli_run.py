"""Running the real `sms-bridge` binary as an operator would, with only the settings a
test gives: nothing from the tester's shell or a `.env` leaks in."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

from tests.e2e.conftest import SMS_BRIDGE

# Every variable the bridge reads starts with one of these (or is PORT).
SETTING_PREFIXES = ("SLACK_", "TWILIO_", "BRIDGE_", "MONGODB_", "ANTHROPIC_")


def closed_port() -> int:
    """A local port nothing listens on: connecting to it is refused at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def minimal_env(tmp_path: Path) -> dict[str, str]:
    """Valid settings for `serve` that reach no real service: Slack and Twilio are
    a closed local port; the bridge would listen on a free one."""
    nowhere = f"http://127.0.0.1:{closed_port()}"
    return {
        "BRIDGE_HOST": "127.0.0.1",
        "PORT": str(closed_port()),
        "SLACK_BOT_TOKEN": "xoxb-1",
        "SLACK_SIGNING_SECRET": "s",
        "SLACK_INBOX_CHANNEL": "C0X1",
        "SLACK_API_URL": f"{nowhere}/api",
        "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
        "TWILIO_AUTH_TOKEN": "t",
        "TWILIO_FROM_NUMBER": "+14155550100",
        "TWILIO_API_URL": nowhere,
        "BRIDGE_PUBLIC_URL": "https://sms.example.test",
        "BRIDGE_DB_PATH": str(tmp_path / "b.db"),
    }


def run(
    args: list[str], env: dict[str, str], cwd: Path, *, timeout: float = 30
) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith(SETTING_PREFIXES) and k != "PORT"
    }
    return subprocess.run(
        [SMS_BRIDGE, *args],
        env=clean | env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def one_line_failure(result: subprocess.CompletedProcess[str]) -> str:
    """The single stderr line of a refused command (exit 2), for the caller to check."""
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("sms-bridge: "), result.stderr
    return lines[0]
