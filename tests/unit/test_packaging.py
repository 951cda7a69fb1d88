"""What a fresh clone meets before any bridge code runs: `pyproject.toml` and `./dev`."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# A stand-in for `python3` that makes a venv whose tools only say they ran: the script's
# own steps run for real, in a moment instead of a minute of downloads.
FAKE_PYTHON = """#!/bin/sh
mkdir -p .venv/bin
printf '#!/bin/sh\\nexit 0\\n' > .venv/bin/python
printf '#!/bin/sh\\necho "sms-bridge $*"\\n' > .venv/bin/sms-bridge
chmod +x .venv/bin/python .venv/bin/sms-bridge
"""


def test_the_license_is_an_spdx_expression_the_build_backend_knows() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    # A table (`{text = …}`) makes setuptools >= 77 warn at every install.
    assert isinstance(project["project"]["license"], str)
    [setuptools] = [r for r in project["build-system"]["requires"] if r.startswith("setuptools")]
    minimum = re.fullmatch(r"setuptools>=(\d+)(?:\.\d+)*", setuptools)
    assert minimum is not None, setuptools
    assert int(minimum.group(1)) >= 77  # the first version that reads SPDX license strings


def test_dev_says_what_it_does_on_a_first_run(tmp_path: Path) -> None:
    shutil.copy(ROOT / "dev", tmp_path / "dev")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python3").write_text(FAKE_PYTHON, encoding="utf-8")
    (bin_dir / "python3").chmod(0o755)
    env = os.environ | {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}

    def dev() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(tmp_path / "dev"), "--version"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )

    first = dev()
    assert first.returncode == 0, first.stderr
    assert "sms-bridge --version" in first.stdout  # it went on to run the command
    assert "dev: creating .venv" in first.stderr
    assert "dev: installing dependencies" in first.stderr
    again = dev()
    assert again.returncode == 0, again.stderr
    assert again.stderr == ""  # nothing to do, nothing said
