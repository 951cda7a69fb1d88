"""The load balancer's config: the compose file's, and the one the cluster harness
derives from it for local processes, are both valid to HAProxy and nothing sticky."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from bench.cluster import DEPLOYED_CONFIG, HAPROXY, INSTALL_HAPROXY, haproxy_config


def check(config: Path) -> subprocess.CompletedProcess[str]:
    haproxy = shutil.which(HAPROXY)
    assert haproxy is not None, INSTALL_HAPROXY
    return subprocess.run(
        [haproxy, "-c", "-f", str(config)], capture_output=True, text=True, timeout=30
    )


def test_the_compose_files_haproxy_config_is_valid() -> None:
    checked = check(DEPLOYED_CONFIG)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_harness_config_is_valid_and_names_each_process(tmp_path: Path) -> None:
    config = tmp_path / "haproxy.cfg"
    config.write_text(haproxy_config(4000, [4001, 4002, 4003]))
    checked = check(config)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    text = config.read_text()
    assert "bind 127.0.0.1:4000" in text
    assert [
        line.split()[2] for line in text.splitlines() if line.strip().startswith("server ")
    ] == [
        "127.0.0.1:4001",
        "127.0.0.1:4002",
        "127.0.0.1:4003",
    ]
    assert "resolvers" not in text


@pytest.mark.parametrize("sticky", ["cookie", "stick-table", "stick on", "balance source"])
def test_nothing_is_sticky(sticky: str) -> None:
    settings = [line for line in DEPLOYED_CONFIG.read_text().splitlines() if "#" not in line]
    assert not [line for line in settings if sticky in line]
