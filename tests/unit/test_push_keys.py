"""`sms-bridge push keys` prints a VAPID key pair as the configuration takes it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from bridge.cli import cli
from bridge.config import ConfigError, load_business_config
from bridge.sender_settings import WebPushSetting, vapid_key


def test_push_keys_prints_a_key_pair_the_configuration_takes() -> None:
    printed = CliRunner().invoke(cli, ["push", "keys"])
    assert printed.exit_code == 0, printed.output
    snippet = yaml.safe_load(printed.stdout)
    push = snippet["notifications"]["web_push"]
    setting = WebPushSetting.model_validate(push | {"subject": "mailto:ops@bakery.example"})
    assert vapid_key(setting.vapid_private_key).private_numbers().private_value > 0
    again = yaml.safe_load(CliRunner().invoke(cli, ["push", "keys"]).stdout)
    assert again != snippet  # a new pair each time


@pytest.mark.parametrize("key", ["not-a-key", "A" * 43, ""])
def test_a_bad_vapid_key_is_refused_naming_the_key_not_showing_it(tmp_path: Path, key: str) -> None:
    path = tmp_path / "business.yml"
    path.write_text(
        "notifications:\n  web_push:\n"
        f"    {{vapid_private_key: '{key}', subject: 'mailto:a@b.example'}}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as refused:
        load_business_config(path)
    [problem] = refused.value.problems
    assert "notifications.web_push.vapid_private_key" in problem
    assert not key or key not in problem
