"""Every job kind has one factory, in `jobs.py`, that says what its job does; nothing
else makes jobs."""

from __future__ import annotations

import ast
import inspect
from collections import defaultdict
from pathlib import Path

import bridge
from bridge import jobs
from bridge.jobs import LEGACY_KINDS
from bridge.models import JobKind


def _factories() -> dict[JobKind, list[ast.FunctionDef]]:
    found: dict[JobKind, list[ast.FunctionDef]] = defaultdict(list)
    for node in ast.parse(inspect.getsource(jobs)).body:
        if isinstance(node, ast.FunctionDef) and node.returns is not None:
            if ast.unparse(node.returns) != "NewJob":
                continue
            kinds = {
                n.attr
                for n in ast.walk(node)
                if isinstance(n, ast.Attribute)
                and isinstance(n.value, ast.Name)
                and n.value.id == "JobKind"
            }
            for kind in kinds:
                found[JobKind[kind]].append(node)
    return found


def test_every_job_kind_has_exactly_one_factory_in_jobs() -> None:
    factories = _factories()
    assert {k: [f.name for f in v] for k, v in factories.items() if len(v) != 1} == {}
    # Kinds only an earlier release enqueued keep a handler, and get no new jobs.
    assert set(factories) == set(JobKind) - LEGACY_KINDS


def test_every_factory_says_what_its_job_does() -> None:
    for [factory] in _factories().values():
        assert ast.get_docstring(factory), factory.name


def test_no_module_but_jobs_makes_a_job() -> None:
    root = Path(bridge.__file__).parent
    making = [
        path.relative_to(root).as_posix()
        for path in sorted(root.rglob("*.py"))
        if "NewJob(" in path.read_text() and path.name not in {"jobs.py", "models.py"}
    ]
    assert making == []
