"""Browser notifications cost only the processes that use them: without
`notifications.web_push`, the bridge loads neither pywebpush nor cryptography (about
14 MiB and 0.1 s at every start)."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import sys
import bridge.app, bridge.cli
from bridge.config import BusinessConfig
BusinessConfig.model_validate({"notifications": {"webhooks": []}})
print(sorted(m for m in ("pywebpush", "py_vapid", "http_ece", "cryptography") if m in sys.modules))
"""


def test_the_bridge_without_web_push_loads_no_push_or_crypto_library() -> None:
    loaded = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=60
    )
    assert loaded.stdout.strip() == "[]", loaded.stdout + loaded.stderr
