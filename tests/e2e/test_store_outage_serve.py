"""`sms-bridge serve` on SQLite when its writes fail for real: a file size limit set on
the running process (Python ignores SIGXFSZ, so a write past it fails with EFBIG, as
on a full disk), then lifted."""

from __future__ import annotations

import json
import resource
from collections.abc import Callable

import aiohttp
import pytest

from bridge.sandbox.slack_emulator import SlackEmulator
from bridge.sandbox.twilio_emulator import TwilioEmulator
from tests.e2e.conftest import ServeProcess, client
from tests.support import (
    AGENT,
    INBOX,
    agent_replies,
    eventually,
    eventually_async,
    parents,
    thread_texts,
)

pytestmark = pytest.mark.e2e

ANA = "+14155550123"


async def readiness(process: ServeProcess) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.get(f"{process.url}/readyz") as answer:
        return answer.status, await answer.text()


def log_events(process: ServeProcess) -> list[dict[str, str]]:
    return [
        json.loads(line) for line in process.log.read_text().splitlines() if line.startswith("{")
    ]


async def test_writes_refused_by_a_file_size_limit_answer_503_until_it_is_lifted(
    serve: Callable[..., ServeProcess], slack: SlackEmulator, twilio: TwilioEmulator
) -> None:
    slack.add_user(AGENT, "ana", "Ana Ruiz")
    slack.join(INBOX, AGENT)
    process = serve()
    await process.start()
    bridge = client(process, twilio)
    assert (await bridge.text(ANA, "hello")).status == 200
    await eventually(lambda: thread_texts(slack, "415-555-0123") == ["hello"])
    [thread] = [p.ts for p in parents(slack)]
    assert process.proc is not None
    pid = process.proc.pid
    soft, hard = resource.prlimit(pid, resource.RLIMIT_FSIZE)
    sid = "SM" + "2" * 32

    resource.prlimit(pid, resource.RLIMIT_FSIZE, (0, hard))
    try:
        refused = await bridge.text(ANA, "are you there?", sid=sid)
        assert (refused.status, refused.text) == (503, "store unavailable: disk I/O error")
        assert refused.retry_after is not None
        status, body = await readiness(process)
        assert status == 503
        assert "disk I/O error" in body
        assert (await bridge.text(ANA, "are you there?", sid=sid)).status == 503  # a retry
        # An agent's reply is not taken either: Slack delivers the event again.
        _, reply = await agent_replies(bridge, slack, thread, "on my way")
        assert reply.status == 503
    finally:
        resource.prlimit(pid, resource.RLIMIT_FSIZE, (soft, hard))

    async def ready() -> bool:
        return (await readiness(process))[0] == 200

    await eventually_async(ready)  # by itself
    assert (await bridge.text(ANA, "are you there?", sid=sid)).status == 200
    texts = ["hello", "on my way", "are you there?"]  # the agent's message is Slack's own
    await eventually(lambda: thread_texts(slack, "415-555-0123") == texts)
    await eventually(lambda: any(e["event"] == "store.writable_again" for e in log_events(process)))
    refusals = [e for e in log_events(process) if e["event"] == "store.refusing_writes"]
    assert len(refusals) == 1
    assert refusals[0]["cause"].startswith("BRIDGE_DB_PATH: ")
    assert [line for line in process.log.read_text().splitlines() if "Traceback" in line] == []
