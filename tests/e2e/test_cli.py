"""The command line as an operator meets it."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from bridge.sandbox.slack_emulator import SlackEmulator
from bridge.sandbox.twilio_emulator import TwilioEmulator
from tests.e2e.cli_run import one_line_failure, run
from tests.e2e.conftest import ServeProcess
from tests.support import BUSINESS, PUBLIC_URL, bridge_env, eventually

pytestmark = pytest.mark.e2e


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


async def test_check_and_connect_look_after_the_whatsapp_sender(
    slack: SlackEmulator, twilio: TwilioEmulator, tmp_path: Path
) -> None:
    env = bridge_env(slack, twilio, tmp_path / "b.db") | {"TWILIO_WHATSAPP_NUMBERS": BUSINESS}
    twilio.add_number(BUSINESS, sms_url=f"{PUBLIC_URL}/sms/inbound")

    missing = await asyncio.to_thread(run, ["check"], env, tmp_path)
    assert missing.returncode == 1, missing.stdout + missing.stderr
    assert "TWILIO_WHATSAPP_NUMBERS: +14155550100 is not a WhatsApp sender" in missing.stdout

    sender = twilio.add_whatsapp_sender(BUSINESS, callback_url="https://old-app.example/wa")
    elsewhere = await asyncio.to_thread(run, ["check"], env, tmp_path)
    assert elsewhere.returncode == 1, elsewhere.stdout
    assert "https://old-app.example/wa" in elsewhere.stdout

    connected = await asyncio.to_thread(run, ["connect"], env, tmp_path)
    assert connected.returncode == 0, connected.stdout + connected.stderr
    assert "WhatsApp +1 415-555-0100" in connected.stdout
    assert twilio.whatsapp_senders[sender].callback_url == f"{PUBLIC_URL}/sms/inbound"

    after = await asyncio.to_thread(run, ["check"], env, tmp_path)
    assert after.returncode == 0, after.stdout
    assert "WhatsApp +1 415-555-0100 sends messages to the bridge" in after.stdout


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
    assert "+14155550199 is not a number of this Twilio account" in one_line_failure(unknown)
    assert "[/]" not in done.stdout + unknown.stderr  # Rich markup is rendered, never shown


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
    assert "[yellow]" not in done.stdout
    assert "[/]" not in done.stdout
    exported = await asyncio.to_thread(run, ["consent", "export"], env, tmp_path)
    assert exported.returncode == 0, exported.stderr
    [header, row] = exported.stdout.strip().splitlines()
    assert header.startswith("at,business_number,subscriber,kind,change,source")
    assert ",+14155550123,marketing,granted,import,people.csv line 2," in row


def test_store_only_commands_need_only_the_store_settings(tmp_path: Path) -> None:
    env = {"BRIDGE_DB_PATH": str(tmp_path / "b.db")}
    people = tmp_path / "people.csv"
    people.write_text("phone,name\n(415) 555-0123,Ana Ruiz\n", encoding="utf-8")
    imported = run(["contacts", "import", str(people)], env, tmp_path)
    assert imported.returncode == 0, imported.stderr
    exported = run(["consent", "export"], env, tmp_path)
    assert exported.returncode == 0, exported.stderr
    assert exported.stdout.startswith("at,business_number,subscriber,kind,change,source")


def test_help_shows_plain_flags_and_where_settings_come_from(tmp_path: Path) -> None:
    demo = run(["demo", "--help"], {}, tmp_path)
    assert demo.returncode == 0, demo.stderr
    assert "--open" in demo.stdout
    assert "<bool>" not in demo.stdout
    for command in ("serve", "check"):
        shown = run([command, "--help"], {}, tmp_path)
        assert shown.returncode == 0, shown.stderr
        text = " ".join(shown.stdout.split())
        assert "environment variables" in text
        assert ".env" in text
        assert "sms-bridge check" in text


def test_a_usage_error_is_one_line(tmp_path: Path) -> None:
    line = one_line_failure(run(["demo", "--port", "eighty"], {}, tmp_path))
    assert "--port" in line


def test_demo_config_errors_name_your_file(tmp_path: Path) -> None:
    config = tmp_path / "mine.yml"
    config.write_text("business:\n  nmae: typo\n", encoding="utf-8")
    line = one_line_failure(run(["demo", "--port", "0", "--config", str(config)], {}, tmp_path))
    assert str(config) in line
    assert "business.nmae" in line
    assert "sms-bridge-demo-" not in line  # not the demo's temporary copy


async def test_serve_says_where_it_listens(
    slack: SlackEmulator, twilio: TwilioEmulator, tmp_path: Path
) -> None:
    env = bridge_env(slack, twilio, tmp_path / "b.db")
    process = ServeProcess(env | {"BRIDGE_LOG_LEVEL": "info"}, tmp_path / "serve.log", slack)
    await process.start()
    try:

        def said() -> list[str]:
            lines = process.log.read_text(encoding="utf-8").splitlines()
            return [json.loads(line)["event"] for line in lines if "listening on" in line]

        await eventually(lambda: bool(said()))
        assert len(said()) == 1
        [line] = said()
        assert f"http://127.0.0.1:{process.port}" in line
        assert f"{PUBLIC_URL}/sms/inbound" in line
        assert f"{PUBLIC_URL}/slack/events" in line
    finally:
        await process.kill()
