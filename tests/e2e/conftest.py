"""End-to-end: the real `sms-bridge serve` process, reached only over HTTP."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import aiohttp
import pytest

from bridge.sandbox.slack_emulator import SlackEmulator
from bridge.sandbox.twilio_emulator import TwilioEmulator
from tests.support import PUBLIC_URL, STOP_SECONDS, BridgeUnderTest, bridge_env

SMS_BRIDGE = str(Path(sys.executable).with_name("sms-bridge"))
# Start-up is mostly imports: a second or two, far more on a busy machine.
READY_SECONDS = 60.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServeProcess:
    def __init__(self, env: dict[str, str], log: Path, slack: SlackEmulator, *args: str) -> None:
        self.args = args or ("serve",)  # the command line after `sms-bridge`
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
            [SMS_BRIDGE, *self.args], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        copier = threading.Thread(target=self._copy_output, args=(self.proc,), daemon=True)
        copier.start()
        self._copier = copier
        deadline = time.monotonic() + READY_SECONDS
        async with aiohttp.ClientSession() as http:
            while time.monotonic() < deadline:
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
        raise AssertionError(f"sms-bridge was not ready within {READY_SECONDS:.0f} s")

    def _copy_output(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdout is not None
        with proc.stdout as output, self.log.open("ab") as log:
            for line in output:
                log.write(line)
                log.flush()

    async def kill(self, sig: int = signal.SIGKILL) -> None:
        """Signal the process and wait for it to end; after STOP_SECONDS it is killed and
        the test fails. The wait is async: a stopping bridge still finishes its calls to
        the emulators, which answer from this event loop."""
        assert self.proc is not None
        self.proc.send_signal(sig)
        deadline = time.monotonic() + STOP_SECONDS
        while self.proc.poll() is None:
            if time.monotonic() > deadline:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError(f"sms-bridge did not stop within {STOP_SECONDS:.0f} s")
            await asyncio.sleep(0.05)
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

    def make(*args: str, **extra_env: str) -> ServeProcess:
        made.append(ServeProcess(env | extra_env, tmp_path / "serve.log", slack, *args))
        return made[-1]

    yield make
    running = [p for p in made if p.proc is not None and p.proc.poll() is None]
    stopped = await asyncio.gather(
        *(p.kill(signal.SIGTERM) for p in running), return_exceptions=True
    )
    for outcome in stopped:  # each one was stopped, or killed after its bound
        if isinstance(outcome, BaseException):
            raise outcome


def client(process: ServeProcess, twilio: TwilioEmulator) -> BridgeUnderTest:
    twilio.route_webhooks(PUBLIC_URL, process.url)  # status callbacks reach this process
    return BridgeUnderTest(url=process.url, twilio=twilio)
