from pathlib import Path

import pytest

from bridge.config import ConfigError, load_business_config, load_settings

VALID = {
    "slack_bot_token": "xoxb-1",
    "slack_signing_secret": "s",
    "slack_inbox_channel": "C0123ABC",
    "twilio_account_sid": "AC" + "0" * 32,
    "twilio_auth_token": "t",
    "twilio_from_number": "+14155550100",
    "bridge_public_url": "https://sms.example.com/",
}


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env
    for name in [*VALID, "slack_app_token", "twilio_messaging_service_sid", "port"]:
        monkeypatch.delenv(name.upper(), raising=False)


def test_valid_settings_and_defaults() -> None:
    settings = load_settings(**VALID)
    assert str(settings.bridge_public_url) == "https://sms.example.com"
    assert settings.port == 3000
    assert settings.slack_api_url == "https://slack.com/api"
    assert settings.bridge_slack_history_per_minute == 50


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"slack_bot_token": None}, "SLACK_BOT_TOKEN: required but not set"),
        ({"slack_bot_token": "xoxp-user"}, "SLACK_BOT_TOKEN: must be a bot token"),
        ({"slack_inbox_channel": "#support"}, "SLACK_INBOX_CHANNEL: must be a channel ID"),
        ({"twilio_account_sid": "AC1"}, "TWILIO_ACCOUNT_SID"),
        ({"bridge_public_url": "not a url"}, "BRIDGE_PUBLIC_URL"),
        ({"port": "99999"}, "PORT"),
        ({"slack_signing_secret": None}, "SLACK_SIGNING_SECRET: required in HTTP mode"),
        ({"twilio_from_number": None}, "TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID"),
        ({"twilio_from_number": "555-1234"}, "TWILIO_FROM_NUMBER: '555-1234' is not in E.164"),
        ({"bridge_public_url": "http://sms.example.com"}, "BRIDGE_PUBLIC_URL: must start with"),
        ({"slack_api_url": "slack.com/api"}, "SLACK_API_URL: must be a URL like https://"),
        ({"mongodb_uri": "db.example.com"}, "MONGODB_URI: must start with mongodb://"),
        ({"mongodb_uri": "mongodb://u:p@ss@db"}, "MONGODB_URI: not a valid MongoDB URI"),
        ({"port": "eighty"}, "PORT: must be a whole number"),
        ({"bridge_slack_history_per_minute": "0"}, "BRIDGE_SLACK_HISTORY_PER_MINUTE"),
    ],
)
def test_errors_name_the_setting_in_one_line(change: dict[str, str | None], message: str) -> None:
    values = {k: v for k, v in (VALID | change).items() if v is not None}
    with pytest.raises(ConfigError) as caught:
        load_settings(**values)
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


def test_every_problem_is_listed() -> None:
    values = VALID | {"slack_bot_token": "xoxp-user", "port": "0", "bridge_log_level": "loud"}
    with pytest.raises(ConfigError) as caught:
        load_settings(**values)
    assert [problem.split(":")[0] for problem in caught.value.problems] == [
        "SLACK_BOT_TOKEN",
        "PORT",
        "BRIDGE_LOG_LEVEL",
    ]
    assert "must be at least 1" in caught.value.problems[1]


def test_short_codes_and_spaced_e164_numbers_are_business_numbers() -> None:
    assert load_settings(
        **VALID | {"twilio_from_number": "+1 415 555 0100"}
    ).twilio_from_number == ("+14155550100")
    assert load_settings(**VALID | {"twilio_from_number": "12345"}).twilio_from_number == "12345"


def test_env_variables_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in VALID.items():
        monkeypatch.setenv(name.upper(), value)
    monkeypatch.setenv("PORT", "8081")
    assert load_settings().port == 8081


def test_business_config_defaults_and_a_full_file(tmp_path: Path) -> None:
    assert load_business_config(None).slack.note_prefix == "note:"
    path = tmp_path / "bridge.yml"
    path.write_text(
        "business:\n  name: Harbor Street Bakery\n  timezone: America/Los_Angeles\n"
        "  hours: {mon-fri: '07:00-18:00', sat: '08:00-14:00'}\n"
        "slack:\n  note_prefix: 'internal:'\n"
        "canned:\n  greet: 'Hi {first_name}'\n"
    )
    config = load_business_config(path)
    assert config.business.name == "Harbor Street Bakery"
    assert config.slack.note_prefix == "internal:"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("business:\n  nmae: typo\n", "business.nmae: unknown key"),
        ("business:\n  timezone: Mars/Olympus\n", "business.timezone"),
        ("business:\n  hours: {mon-fri: '7-18'}\n", "business.hours"),
        ("slack: [\n", "not valid YAML at line"),
        ("- a list\n", "mapping at the top level"),
    ],
)
def test_business_config_errors_name_the_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bridge.yml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message.replace("[", r"\[")):
        load_business_config(path)


def test_missing_config_file_names_the_setting(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="BRIDGE_CONFIG: cannot read"):
        load_business_config(tmp_path / "absent.yml")
