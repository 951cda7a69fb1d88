"""The command line as an operator meets it."""

from __future__ import annotations

import asyncio
import os
import subprocess
from pathlib import Path

import pytest

from bridge.sandbox.slack_emulator import SlackEmulator
from bridge.sandbox.twilio_emulator import TwilioEmulator
from tests.e2e.conftest import SMS_BRIDGE
from tests.support import bridge_env

pytestmark = pytest.mark.e2e

REQUIRED = [
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_INBOX_CHANNEL",
    "TWILIO_ACCOUNT_SID",
    "TWILIO_AUTH_TOKEN",
    "TWILIO_FROM_NUMBER",
    "BRIDGE_PUBLIC_URL",
    "SLACK_APP_TOKEN",
    "TWILIO_MESSAGING_SERVICE_SID",
    "MONGODB_URI",
    "BRIDGE_CONFIG",
]


def run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in REQUIRED}
    return subprocess.run(
        [SMS_BRIDGE, *args],
        env=clean | env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"SLACK_BOT_TOKEN": ""}, "SLACK_BOT_TOKEN"),
        ({"BRIDGE_PUBLIC_URL": "nope"}, "BRIDGE_PUBLIC_URL"),
        ({"BRIDGE_DB_PATH": "/nonexistent/dir/bridge.db"}, "BRIDGE_DB_PATH"),
        ({"BRIDGE_CONFIG": "/nonexistent.yml"}, "BRIDGE_CONFIG"),
    ],
)
def test_serve_refuses_bad_settings_in_one_line(
    tmp_path: Path, change: dict[str, str], expected: str
) -> None:
    env = {
        "SLACK_BOT_TOKEN": "xoxb-1",
        "SLACK_SIGNING_SECRET": "s",
        "SLACK_INBOX_CHANNEL": "C0X1",
        "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
        "TWILIO_AUTH_TOKEN": "t",
        "TWILIO_FROM_NUMBER": "+14155550100",
        "BRIDGE_PUBLIC_URL": "https://sms.example.test",
        "PORT": "1",
        "BRIDGE_DB_PATH": str(tmp_path / "b.db"),
    } | change
    result = run(["serve"], {k: v for k, v in env.items() if v}, tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"sms-bridge: {expected}")
    assert "Traceback" not in result.stderr


async def test_check_tries_the_credentials(
    slack: SlackEmulator, twilio: TwilioEmulator, tmp_path: Path
) -> None:
    env = bridge_env(slack, twilio, tmp_path / "b.db")
    good = await asyncio.to_thread(run, ["check"], env, tmp_path)
    assert good.returncode == 0, good.stdout + good.stderr
    assert "Slack" in good.stdout
    assert "Twilio" in good.stdout
    assert slack.calls_to("auth.test")
    assert twilio.calls_to("accounts.fetch")

    bad = await asyncio.to_thread(run, ["check"], env | {"TWILIO_AUTH_TOKEN": "wrong"}, tmp_path)
    assert bad.returncode == 1
    assert "TWILIO_AUTH_TOKEN" in bad.stdout
