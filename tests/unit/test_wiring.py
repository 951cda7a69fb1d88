"""The composition reads like the architecture: `app.py` assembles the parts and each
edge wires itself in its own `wiring.py`, in functions short enough to read at once."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import bridge

ROOT = Path(bridge.__file__).parent
WIRING = ("app.py", "slack/wiring.py", "sms/wiring.py", "notify/wiring.py")
MAX_FUNCTION_LINES = 60


@pytest.mark.parametrize("module", WIRING)
def test_every_wiring_function_is_short(module: str) -> None:
    tree = ast.parse((ROOT / module).read_text(encoding="utf-8"))
    long = {
        node.name: lines
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno is not None
        and (lines := node.end_lineno - node.lineno + 1) > MAX_FUNCTION_LINES
    }
    assert long == {}
