"""A write and the jobs it causes, named once in `bridge/store/effects.py` and shared by
both engines: each effect and its jobs."""

from __future__ import annotations

import ast
from datetime import UTC, datetime
from pathlib import Path

import bridge
from bridge import jobs
from bridge.models import DeliveryStatus, Direction, JobKind, Message, MessagePurpose
from bridge.store import effects

AT = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def text(**update: object) -> Message:
    message = Message(
        id="m1", conversation_id=7, direction=Direction.INBOUND, body="hi", created_at=AT
    )
    return message.model_copy(update=update)


def test_an_inbound_text_is_posted_into_its_thread() -> None:
    assert effects.after_inbound(text()) == [jobs.post_job(text())]


def test_a_queued_text_is_sent() -> None:
    reply = text(direction=Direction.OUTBOUND, status=DeliveryStatus.QUEUED)
    marketing = reply.model_copy(update={"purpose": MessagePurpose.MARKETING})
    assert effects.after_queued(reply) == [jobs.send_job(reply)]
    assert [j.kind for j in effects.after_queued(marketing)] == [JobKind.SEND_SMS]


def test_no_engine_makes_jobs_of_its_own() -> None:
    """The engines store the jobs `effects` names; they call no job factory."""
    factories = {
        node.name
        for node in ast.parse(Path(jobs.__file__).read_text()).body
        if isinstance(node, ast.FunctionDef) and ast.unparse(node.returns or "") == "NewJob"
    }
    store = Path(bridge.__file__).parent / "store"
    calling = sorted(
        f"{path.relative_to(store)}: {node.func.id}"
        for engine in ("sqlite", "mongo")
        for path in (store / engine).glob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in factories
    )
    assert calling == []
