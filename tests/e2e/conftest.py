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
    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env = env
        self.port = free_port()
        self.log = log
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

    def kill(self, sig: int = signal.SIGKILL) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)
        self.proc.wait(timeout=15)
        if self._copier is not None:
            self._copier.join(timeout=5)


@pytest.fixture
async def serve(
    slack: SlackEmulator, twilio: TwilioEmulator, tmp_path: Path
) -> AsyncIterator[Callable[..., ServeProcess]]:
    """Makes bridge processes sharing one database, as restarts of one deployment."""
    env = bridge_env(slack, twilio, tmp_path / "bridge.db") | {
        "BRIDGE_JOB_LEASE_SECONDS": "2",
        "BRIDGE_LOG_LEVEL": "warning",
    }
    made: list[ServeProcess] = []

    def make(**extra_env: str) -> ServeProcess:
        made.append(ServeProcess(env | extra_env, tmp_path / "serve.log"))
        return made[-1]

    yield make
    for process in made:
        if process.proc is not None and process.proc.poll() is None:
            process.kill(signal.SIGTERM)


def client(process: ServeProcess, twilio: TwilioEmulator) -> BridgeUnderTest:
    twilio.route_webhooks(PUBLIC_URL, process.url)  # status callbacks reach this process
    return BridgeUnderTest(url=process.url, twilio=twilio)
