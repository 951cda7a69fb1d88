"""`notifications.webhooks`: each webhook's URL must be https, except for a loopback
host or with `allow_insecure: true`; names are unique; errors name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.config import ConfigError, load_business_config

SECRET = "a-long-enough-shared-secret"


def _load(tmp_path: Path, hooks: str) -> object:
    path = tmp_path / "business.yml"
    path.write_text(f"notifications:\n  webhooks:\n{hooks}", encoding="utf-8")
    return load_business_config(path)


@pytest.mark.parametrize(
    "url",
    [
        "http://crm.example.com/hooks/sms",
        "ftp://crm.example.com/hooks",
        "crm.example.com/hooks",
    ],
)
def test_a_webhook_that_is_not_https_is_refused_naming_the_key(tmp_path: Path, url: str) -> None:
    with pytest.raises(ConfigError) as refused:
        _load(tmp_path, f"    - {{name: crm, url: '{url}', secret: {SECRET}}}\n")
    [problem] = refused.value.problems
    assert "notifications.webhooks[0].url" in problem
    assert SECRET not in problem


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8123/hook", "http://localhost/hook", "http://[::1]:9000/"]
)
def test_plain_http_to_a_loopback_host_is_accepted(tmp_path: Path, url: str) -> None:
    config = _load(tmp_path, f"    - {{name: local, url: '{url}', secret: {SECRET}}}\n")
    [hook] = config.notifications.webhooks  # type: ignore[attr-defined]
    assert hook.url == url
    assert hook.secret.get_secret_value() == SECRET


def test_plain_http_elsewhere_needs_allow_insecure(tmp_path: Path) -> None:
    config = _load(
        tmp_path,
        "    - {name: lan, url: 'http://10.0.0.5/hook', secret: "
        + SECRET
        + ", allow_insecure: true}\n",
    )
    [hook] = config.notifications.webhooks  # type: ignore[attr-defined]
    assert hook.allow_insecure


def test_two_webhooks_of_one_name_are_refused(tmp_path: Path) -> None:
    hook = f"    - {{name: crm, url: 'https://a.example/h', secret: {SECRET}}}\n"
    with pytest.raises(ConfigError) as refused:
        _load(tmp_path, hook + hook)
    assert "notifications.webhooks" in refused.value.problems[0]
    assert "crm" in refused.value.problems[0]


def test_a_short_secret_is_refused_without_showing_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as refused:
        _load(tmp_path, "    - {name: crm, url: 'https://a.example/h', secret: hunter2}\n")
    [problem] = refused.value.problems
    assert "notifications.webhooks[0].secret" in problem
    assert "hunter2" not in problem
