"""The supervisor of `serve --processes N`, with stand-in workers (a line of Python):
a worker that dies starts again, one whose configuration is refused stops them all,
and a signal stops every worker and the supervisor with status 0."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from bridge.supervisor import Supervisor
from tests.support import eventually


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


async def test_a_worker_whose_configuration_is_refused_stops_them_all() -> None:
    # Worker 1 is refused (exit 2, as `serve` does); worker 2 would run on for a minute.
    def command(number: int) -> list[str]:
        return python("import sys; sys.exit(2)" if number == 1 else "import time; time.sleep(60)")

    status = await asyncio.wait_for(Supervisor(2, command, dict(os.environ)).run(), 30)
    assert status == 2


async def test_a_dead_worker_starts_again_and_a_signal_stops_all(tmp_path: Path) -> None:
    starts = tmp_path / "starts"

    # Worker 1 dies at once each time; worker 2 runs until it is told to stop.
    def command(number: int) -> list[str]:
        if number == 1:
            return python(f"open({str(starts)!r}, 'a').write('1')")
        return python("import time; time.sleep(60)")

    watching = Supervisor(2, command, dict(os.environ), first_pause=0.05)
    running = asyncio.create_task(watching.run())
    await eventually(lambda: starts.exists() and len(starts.read_text()) >= 3, within=60)
    os.kill(os.getpid(), signal.SIGTERM)  # to the supervisor, which handles it
    assert await asyncio.wait_for(running, 30) == 0
