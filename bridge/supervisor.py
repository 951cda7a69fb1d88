"""`serve --processes N`: N worker processes of `serve` on one port (SO_REUSEPORT: the
kernel spreads connections over them) and one store. A worker that dies is started
again after a pause that grows while it keeps dying; SIGTERM or SIGINT stops them all,
within a bound."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import signal
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import structlog

log = structlog.get_logger(__name__)

# A worker's exit status when its configuration or store is refused at start.
REFUSED = 2
# The pause before a dead worker starts again: doubling from the first to the longest,
# and back to the first once a worker has run for `STEADY_SECONDS`.
FIRST_PAUSE, LONGEST_PAUSE, STEADY_SECONDS = 1.0, 30.0, 30.0
# How long the workers have to stop after SIGTERM before they are killed.
STOP_SECONDS = 20.0
_PR_SET_PDEATHSIG = 1  # Linux prctl(2)


def follow_supervisor() -> None:
    """Called first by a worker: Linux sends it SIGTERM when the supervisor dies (even
    by SIGKILL), so no worker outlives it to serve the port unsupervised."""
    if sys.platform == "linux":
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _exit_words(code: int) -> str:
    return f"killed by {signal.Signals(-code).name}" if code < 0 else f"exit status {code}"


@dataclass
class _Worker:
    number: int
    pause: float  # before it starts again, should it die now
    process: asyncio.subprocess.Process | None = None
    started_at: float = 0.0


class Supervisor:
    """Runs `command(n)` for workers 1..count and keeps them running."""

    def __init__(
        self,
        count: int,
        command: Callable[[int], Sequence[str]],
        env: dict[str, str],
        *,
        first_pause: float = FIRST_PAUSE,
    ) -> None:
        self._command = command
        self._env = env
        self._first_pause = first_pause
        self._workers = [_Worker(n, first_pause) for n in range(1, count + 1)]
        self._stopping = asyncio.Event()
        self._status = 0

    async def run(self) -> int:
        """Until a signal (0), or a worker refused at its first start (2): starting it
        again cannot help."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._stopping.set)
        keepers = [asyncio.create_task(self._keep(worker)) for worker in self._workers]
        await self._stopping.wait()
        for keeper in keepers:  # no worker starts again, nor is its stop logged as a death
            keeper.cancel()
        await asyncio.gather(*keepers, return_exceptions=True)
        await self._stop_all()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
        return self._status

    async def _keep(self, worker: _Worker) -> None:
        first = True
        while True:
            worker.process = await asyncio.create_subprocess_exec(
                *self._command(worker.number),
                env=self._env,
                # Its own process group: a terminal's Ctrl-C reaches the supervisor only,
                # which stops each worker once.
                start_new_session=True,
            )
            worker.started_at = time.monotonic()
            code = await worker.process.wait()
            pid = worker.process.pid
            # Refused at its first start: the configuration (or the store) is wrong for
            # all. Later, the same may be an outage a restart outlasts.
            if code == REFUSED and first:
                log.error(
                    f"worker {worker.number} (pid {pid}) refused its configuration; stopping",
                    worker=worker.number,
                    pid=pid,
                    exit=code,
                )
                self._status = REFUSED
                self._stopping.set()
                return
            if time.monotonic() - worker.started_at >= STEADY_SECONDS:
                worker.pause = self._first_pause
            log.warning(
                f"worker {worker.number} (pid {pid}) ended, {_exit_words(code)};"
                f" starting it again in {worker.pause:g} s",
                worker=worker.number,
                pid=pid,
                exit=code,
                restart_in=worker.pause,
            )
            await asyncio.sleep(worker.pause)
            worker.pause = min(worker.pause * 2, LONGEST_PAUSE)
            first = False

    async def _stop_all(self) -> None:
        started = [w.process for w in self._workers if w.process is not None]
        running = [process for process in started if process.returncode is None]
        for process in running:
            with contextlib.suppress(ProcessLookupError):
                process.terminate()
        waits = [asyncio.create_task(process.wait()) for process in running]
        if not waits:
            return
        _, late = await asyncio.wait(waits, timeout=STOP_SECONDS)
        for process in running:
            if process.returncode is None:
                log.warning(
                    f"worker pid {process.pid} did not stop within {STOP_SECONDS:.0f} s; killed",
                    pid=process.pid,
                )
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
        if late:
            await asyncio.wait(late)
