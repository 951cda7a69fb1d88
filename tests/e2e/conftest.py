"""End-to-end: the real `sms-bridge serve` process, reached only over HTTP."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import aiohttp
import pytest

from bridge.sandbox.slack_emulator import SlackEmulator
from bridge.sandbox.twilio_emulator import TwilioEmulator
from tests.support import PUBLIC_URL, BridgeUnderTest, bridge_env

SMS_BRIDGE = str(Path(sys.executable).with_name("sms-bridge"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServeProcess:
    def __init__(self, env: dict[str, str], log: Path, slack: SlackEmulator) -> None:
        self.env = env
        self.port = free_port()
        self.log = log
        self.slack = slack
        self.proc: subprocess.Popen[bytes] | None = None
        self._copier: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        env = os.environ | self.env | {"PORT": str(self.port), "BRIDGE_HOST": "127.0.0.1"}
        # Output goes through a pipe, copied to the log here: a file size limit set on
        # the process (resource.prlimit) then limits its database, never its logs.
        self.proc = subprocess.Popen(  # noqa: ASYNC220 - returns at once; the wait is async
            [SMS_BRIDGE, "serve"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        copier = threading.Thread(target=self._copy_output, args=(self.proc,), daemon=True)
        copier.start()
        self._copier = copier
        async with aiohttp.ClientSession() as http:
            for _ in range(200):
                if self.proc.poll() is not None:
                    copier.join(timeout=5)
                    raise AssertionError(f"sms-bridge exited: {self.log.read_text()[-2000:]}")
                try:
                    async with http.get(f"{self.url}/readyz") as r:
                        if r.status == 200:
                            # Slack's Request URL: where the bridge's own posts echo.
                            self.slack.echo_url = f"{self.url}/slack/events"
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.05)
        raise AssertionError("sms-bridge did not become ready")

    def _copy_output(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdout is not None
        with proc.stdout as output, self.log.open("ab") as log:
            for line in output:
                log.write(line)
                log.flush()

    async def kill(self, sig: int = signal.SIGKILL) -> None:
        """Signal the process and wait for it without blocking this loop: the emulators
        it may still be talking to while it stops run here."""
        assert self.proc is not None
        self.proc.send_signal(sig)
        for _ in range(300):
            if self.proc.poll() is not None:
                break
            await asyncio.sleep(0.05)
        else:
            self.proc.kill()
            raise AssertionError(f"sms-bridge did not stop on signal {sig} within 15 s")
        if self._copier is not None:
            await asyncio.to_thread(self._copier.join, 5)


@pytest.fixture
async def serve(
    slack: SlackEmulator, twilio: TwilioEmulator, tmp_path: Path
) -> AsyncIterator[Callable[..., ServeProcess]]:
    """Makes bridge processes sharing one database, as restarts of one deployment."""
    env = bridge_env(slack, twilio, tmp_path / "bridge.db") | {
        "BRIDGE_JOB_LEASE_SECONDS": "2",
        "BRIDGE_LOG_LEVEL": "warning",
        # A restart on a busy machine takes seconds: Slack's echo retries outlast it.
        "BRIDGE_SLACK_ECHO_WAIT_SECONDS": "15",
    }
    slack.echo_retry_delays = (0.5, 2.0, 5.0, 5.0)
    made: list[ServeProcess] = []

    def make(**extra_env: str) -> ServeProcess:
        made.append(ServeProcess(env | extra_env, tmp_path / "serve.log", slack))
        return made[-1]

    yield make
    for process in made:
        if process.proc is not None and process.proc.poll() is None:
            await process.kill(signal.SIGTERM)


def client(process: ServeProcess, twilio: TwilioEmulator) -> BridgeUnderTest:
    twilio.route_webhooks(PUBLIC_URL, process.url)  # status callbacks reach this process
    return BridgeUnderTest(url=process.url, twilio=twilio)
