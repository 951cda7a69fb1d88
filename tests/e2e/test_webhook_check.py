"""`sms-bridge check` warns, in one line naming the key, about a webhook that sends
plain http (accepted only for a loopback host or with `allow_insecure: true`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.cli_run import minimal_env, run

pytestmark = pytest.mark.e2e

SECRET = "the-shared-secret-nobody-sees"


def test_check_warns_about_plain_http_webhooks_and_never_shows_a_secret(tmp_path: Path) -> None:
    config = tmp_path / "business.yml"
    config.write_text(
        "notifications:\n  webhooks:\n"
        f"    - {{name: crm, url: 'https://crm.example/h', secret: {SECRET}}}\n"
        f"    - {{name: lan, url: 'http://10.0.0.5/h', secret: {SECRET}, allow_insecure: true}}\n"
        f"    - {{name: dev, url: 'http://127.0.0.1:9/h', secret: {SECRET}}}\n",
        encoding="utf-8",
    )
    checked = run(["check"], minimal_env(tmp_path) | {"BRIDGE_CONFIG": str(config)}, tmp_path)
    assert "✓ settings" in checked.stdout, checked.stdout + checked.stderr
    warnings = [line for line in checked.stdout.splitlines() if line.startswith("!")]
    assert len(warnings) == 2, checked.stdout
    assert "notifications.webhooks[1].url" in warnings[0]
    assert "notifications.webhooks[2].url" in warnings[1]
    assert SECRET not in checked.stdout + checked.stderr
