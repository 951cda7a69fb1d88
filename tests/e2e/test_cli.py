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
from tests.support import BUSINESS, PUBLIC_URL, bridge_env

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


async def test_check_connect_check(
    slack: SlackEmulator, twilio: TwilioEmulator, tmp_path: Path
) -> None:
    env = bridge_env(slack, twilio, tmp_path / "b.db")
    twilio.add_number(BUSINESS, sms_url="https://old-app.example/sms")

    before = await asyncio.to_thread(run, ["check"], env, tmp_path)
    assert before.returncode == 1, before.stdout + before.stderr
    assert "team" in before.stdout  # Slack auth.test worked
    assert "account Sandbox account is active" in before.stdout
    assert "https://old-app.example/sms" in before.stdout
    assert "run `sms-bridge connect`" in before.stdout

    connected = await asyncio.to_thread(run, ["connect"], env, tmp_path)
    assert connected.returncode == 0, connected.stdout + connected.stderr
    assert "https://old-app.example/sms → https://sms.example.test/sms/inbound" in " ".join(
        connected.stdout.split()
    )
    [number] = twilio.numbers.values()
    assert number.sms_url == f"{PUBLIC_URL}/sms/inbound"

    after = await asyncio.to_thread(run, ["check"], env, tmp_path)
    assert after.returncode == 0, after.stdout
    assert slack.calls_to("auth.test")

    bad = await asyncio.to_thread(run, ["check"], env | {"TWILIO_AUTH_TOKEN": "wrong"}, tmp_path)
    assert bad.returncode == 1
    assert "TWILIO_AUTH_TOKEN" in bad.stdout


async def test_connect_a_messaging_service_and_an_unknown_number(
    slack: SlackEmulator, twilio: TwilioEmulator, tmp_path: Path
) -> None:
    service = "MG" + "1" * 32
    twilio.services[service] = None
    env = bridge_env(slack, twilio, tmp_path / "b.db") | {"TWILIO_MESSAGING_SERVICE_SID": service}
    done = await asyncio.to_thread(run, ["connect"], env, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert twilio.services[service] == f"{PUBLIC_URL}/sms/inbound"

    unknown = await asyncio.to_thread(run, ["connect", "+1 415 555 0199"], env, tmp_path)
    assert unknown.returncode == 1
    assert "+14155550199 is not a number of this Twilio account" in unknown.stdout


async def test_contacts_import_fills_details_and_marketing_consent(
    slack: SlackEmulator, twilio: TwilioEmulator, tmp_path: Path
) -> None:
    env = bridge_env(slack, twilio, tmp_path / "b.db")
    people = tmp_path / "people.csv"
    people.write_text(
        "Phone,Name,marketing_consent,order_id\n"
        "(415) 555-0123,Ana Ruiz,yes,A-17\n"
        "not a phone,Nobody,,\n"
        "+1 415 555 0124,Ben Ode,,B-2\n",
        encoding="utf-8",
    )
    done = await asyncio.to_thread(run, ["contacts", "import", str(people)], env, tmp_path)
    assert done.returncode == 1  # one line was skipped, and said so
    assert "line 3" in done.stdout
    assert "2 contacts imported, 1 lines skipped" in done.stdout
    exported = await asyncio.to_thread(run, ["consent", "export"], env, tmp_path)
    assert exported.returncode == 0, exported.stderr
    [header, row] = exported.stdout.strip().splitlines()
    assert header.startswith("at,business_number,subscriber,kind,change,source")
    assert ",+14155550123,marketing,granted,import,people.csv line 2," in row
