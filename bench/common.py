"""Pieces shared by the benchmarks: machine facts, child servers (the bridge and the
bare "ceiling" server), /proc readings, a load generator and percentiles.

Every loop here is bounded in count and in time, and everything talks to 127.0.0.1.

Run as a script, this module is the ceiling server:
    python bench/common.py ceiling PORT
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import random
import re
import signal
import socket
import sqlite3
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TypeVar

import aiohttp
from aiohttp import web

THIS_FILE = Path(__file__).resolve()
REPO = THIS_FILE.parent.parent
VENV_BIN = REPO / ".venv" / "bin"
HOST = "127.0.0.1"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
REQUEST_TIMEOUT = 10.0  # seconds one request may take before it counts as an error
WORKER_PID = re.compile(r'^bridge_process\{pid="(\d+)"', re.MULTILINE)  # in /metrics

T = TypeVar("T")


# --- machine facts and /proc -------------------------------------------------------------


def machine_facts() -> dict[str, str]:
    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "nproc": str(len(os.sched_getaffinity(0))),
        "cpu": model,
        "memory": f"{mem_gb:.1f} GiB",
        "kernel": platform.release(),
        "python": platform.python_version(),
        "aiohttp": aiohttp.__version__,
        "sqlite": sqlite3.sqlite_version,
    }


@dataclass(frozen=True)
class Memory:
    rss_mb: float  # VmRSS: resident now
    hwm_mb: float  # VmHWM: peak resident since the process started


def read_memory(pid: int) -> Memory | None:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    values: dict[str, float] = {}
    for line in text.splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            values[name] = int(rest.split()[0]) / 1024  # kB → MiB
    return Memory(values.get("VmRSS", 0.0), values.get("VmHWM", 0.0))


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime


def tree_cpu_seconds(pid: int) -> float:
    """`cpu_seconds` of a process and its children (the workers of `serve --processes N`)."""
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
        children = [int(c) for t in tasks for c in (t / "children").read_text().split()]
    except OSError:
        children = []
    return cpu_seconds(pid) + sum(tree_cpu_seconds(child) for child in children)


def system_busy_seconds() -> float:
    """CPU time all processes spent in user and system mode (all cores), from /proc/stat."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()
    user, nice, system = (int(value) for value in fields[1:4])
    return (user + nice + system) / CLOCK_TICKS


async def wait_until_quiet(within: float, busy_below: float = 0.1, window: float = 3.0) -> float:
    """Wait (at most `within` seconds) for a `window` in which the whole machine used less
    than `busy_below` of a core; returns the busy share of the last window."""
    deadline = time.monotonic() + within
    while True:
        busy0 = system_busy_seconds()
        await asyncio.sleep(window)
        busy = (system_busy_seconds() - busy0) / window
        if busy < busy_below or time.monotonic() >= deadline:
            return busy


class MemorySampler:
    """Samples a process's VmRSS in the background; keeps the peak seen."""

    def __init__(self, pid: int, every: float = 0.2) -> None:
        self._pid = pid
        self._every = every
        self.peak_rss_mb = 0.0
        self._task: asyncio.Task[None] | None = None

    def __enter__(self) -> MemorySampler:
        self._task = asyncio.create_task(self._run())
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
        self.sample()

    def sample(self) -> None:
        memory = read_memory(self._pid)
        if memory is not None:
            self.peak_rss_mb = max(self.peak_rss_mb, memory.rss_mb)

    async def _run(self) -> None:
        while True:  # cancelled by __exit__
            self.sample()
            await asyncio.sleep(self._every)


@dataclass
class CpuMeter:
    """CPU used over a span by the server process (its child processes included), by
    this (load-generating) process, and by everything else on the machine ("other": it
    competes for the same cores)."""

    server_pid: int
    wall: float = 0.0
    server: float = 0.0
    generator: float = 0.0
    other: float = 0.0
    _start: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)

    def __enter__(self) -> CpuMeter:
        self._start = (
            time.perf_counter(),
            tree_cpu_seconds(self.server_pid),
            time.process_time(),
            system_busy_seconds(),
        )
        return self

    def __exit__(self, *_exc: object) -> None:
        wall0, server0, gen0, busy0 = self._start
        self.wall = time.perf_counter() - wall0
        self.server = tree_cpu_seconds(self.server_pid) - server0
        self.generator = time.process_time() - gen0
        busy = system_busy_seconds() - busy0
        self.other = max(0.0, busy - self.server - self.generator)

    def describe(self) -> str:
        if self.wall <= 0:
            return "n/a"
        return (
            f"server {self.server / self.wall:.0%} of a core, "
            f"generator+emulators {self.generator / self.wall:.0%}, "
            f"other processes {self.other / self.wall:.0%}"
        )


# --- child servers -------------------------------------------------------------------------


def base_env(home: Path) -> dict[str, str]:
    """A minimal environment for a child; PYTHONPATH passes through, so a benchmark
    can run against another checkout of the product (e.g. a snapshot of a commit)."""
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(home)}
    if "PYTHONPATH" in os.environ:
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class ChildServer:
    """A server in its own process, reachable at `url`."""

    name: str
    process: asyncio.subprocess.Process
    url: str
    stderr_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    async def wait_ready(self, path: str, within: float = 30.0) -> None:
        deadline = time.monotonic() + within
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as session:
            while time.monotonic() < deadline:
                if self.process.returncode is not None:
                    break
                with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                    async with session.get(f"{self.url}{path}") as response:
                        if response.status == 200:
                            return
                await asyncio.sleep(0.1)
        await self.stop()
        tail = self.stderr_path.read_text(errors="replace")[-2000:]
        raise RuntimeError(f"{self.name} did not become ready at {self.url}{path}:\n{tail}")

    async def wait_workers(self, count: int, within: float = 60.0) -> None:
        """Until `count` processes (their pids in /metrics) have answered on the port:
        each scrape on a new connection reaches the worker the kernel picked."""
        seen: set[str] = set()
        deadline = time.monotonic() + within
        while len(seen) < count and time.monotonic() < deadline:
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                async with (
                    aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as s,
                    s.get(f"{self.url}/metrics") as response,
                ):
                    seen.update(
                        re.findall(r'^bridge_process\{pid="(\d+)"', await response.text(), re.M)
                    )
            await asyncio.sleep(0.05)
        if len(seen) < count:
            raise RuntimeError(f"{self.name}: {len(seen)} of {count} workers answered")

    async def stop(self, grace: float = 10.0) -> None:
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), grace)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    self.process.kill()
                await self.process.wait()


async def start_child(
    name: str, argv: Sequence[str], port: int, env: Mapping[str, str], log_dir: Path
) -> ChildServer:
    stderr_path = log_dir / f"{name}.stderr"
    with stderr_path.open("wb") as stderr:
        process = await asyncio.create_subprocess_exec(
            *argv,
            env=dict(env),
            cwd=str(log_dir),  # keeps the bridge from reading a stray .env in the repo
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=stderr,
        )
    return ChildServer(name, process, f"http://{HOST}:{port}", stderr_path)


async def start_bridge(
    settings: Mapping[str, str],
    log_dir: Path,
    *,
    profile_to: Path | None = None,
    processes: int = 1,
) -> ChildServer:
    """`sms-bridge serve` on a free port, with `settings` as its environment; with
    `processes` > 1, `serve --processes N`, ready once every worker has answered."""
    port = free_port()
    env = base_env(log_dir) | dict(settings)
    env |= {"PORT": str(port), "BRIDGE_HOST": HOST}
    argv: list[str] = [str(VENV_BIN / "sms-bridge"), "serve"]
    if processes > 1:
        argv += ["--processes", str(processes)]
    if profile_to is not None:  # the same entry point, under cProfile
        argv = [sys.executable, "-m", "cProfile", "-o", str(profile_to), *argv]
    child = await start_child("bridge", argv, port, env, log_dir)
    await child.wait_ready("/readyz")
    if processes > 1:  # one process is ready once /readyz says so (older ones name no pid)
        await child.wait_workers(processes)
    return child


async def start_ceiling(log_dir: Path) -> ChildServer:
    port = free_port()
    argv = [sys.executable, str(THIS_FILE), "ceiling", str(port)]
    child = await start_child("ceiling", argv, port, base_env(log_dir), log_dir)
    await child.wait_ready("/readyz")
    return child


def serve_ceiling(port: int) -> None:
    """The bare aiohttp server: 200 and an empty TwiML body for any POST."""

    async def answer(request: web.Request) -> web.Response:
        await request.read()  # take the body off the wire, as any server must
        return web.Response(text=EMPTY_TWIML, content_type="text/xml")

    async def ready(_request: web.Request) -> web.Response:
        return web.json_response({"status": "ready"})

    app = web.Application()
    app.add_routes([web.post("/{tail:.*}", answer), web.get("/readyz", ready)])
    web.run_app(app, host=HOST, port=port, print=None, access_log=None)


# --- the load generator ----------------------------------------------------------------------


@dataclass(frozen=True)
class Prepared:
    """One request, encoded and signed before any timing starts."""

    body: bytes
    headers: Mapping[str, str]


def new_session(concurrency: int) -> aiohttp.ClientSession:
    connector = aiohttp.TCPConnector(limit=concurrency, keepalive_timeout=60)
    return aiohttp.ClientSession(
        connector=connector,
        timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT),
        skip_auto_headers=("User-Agent",),
    )


async def _send(session: aiohttp.ClientSession, url: str, request: Prepared) -> int:
    """POST one prepared request; the status, or 0 for a transport error/timeout."""
    try:
        async with session.post(url, data=request.body, headers=request.headers) as response:
            await response.read()
            return response.status
    except (aiohttp.ClientError, TimeoutError):
        return 0


@dataclass
class Throughput:
    ok: int = 0
    statuses: dict[int, int] = field(default_factory=dict)  # non-200 answers (0: no answer)
    elapsed: float = 0.0
    per_second: list[int] = field(default_factory=list)  # 200s completed in each second
    exhausted: bool = False  # ran out of prepared requests before the duration was up

    @property
    def rate(self) -> float:
        return self.ok / self.elapsed if self.elapsed else 0.0

    @property
    def failed(self) -> int:
        return sum(self.statuses.values())


async def closed_loop(
    session: aiohttp.ClientSession,
    url: str,
    requests: Sequence[Prepared],
    *,
    concurrency: int,
    duration: float,
    cycle: bool = False,
) -> Throughput:
    """`concurrency` senders back to back for `duration` seconds (or until the prepared
    requests run out, unless `cycle` reuses them)."""
    result = Throughput(per_second=[0] * (int(duration) + 1))
    next_index = 0
    started = time.perf_counter()
    deadline = started + duration

    async def sender() -> None:
        nonlocal next_index
        while (now := time.perf_counter()) < deadline:
            if next_index >= len(requests):
                if not cycle:
                    result.exhausted = True
                    return
                next_index = 0
            request = requests[next_index]
            next_index += 1
            status = await _send(session, url, request)
            now = time.perf_counter()
            if now > deadline:
                return  # finished after the window: not counted
            if status == 200:
                result.ok += 1
                result.per_second[int(now - started)] += 1
            else:
                result.statuses[status] = result.statuses.get(status, 0) + 1

    await asyncio.gather(*(sender() for _ in range(concurrency)))
    result.elapsed = min(time.perf_counter(), deadline) - started
    result.per_second = result.per_second[: max(1, int(result.elapsed))]
    return result


@dataclass
class Latencies:
    """Open-loop results; times in seconds."""

    offered_rate: float
    sent: int = 0
    ok: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    from_schedule: list[float] = field(default_factory=list)  # scheduled send → 200
    from_send: list[float] = field(default_factory=list)  # actual send → 200
    send_lag: list[float] = field(default_factory=list)  # scheduled → actual send
    elapsed: float = 0.0

    @property
    def failed(self) -> int:
        return sum(self.statuses.values())


async def open_loop(
    session: aiohttp.ClientSession,
    url: str,
    requests: Sequence[Prepared],
    *,
    rate: float,
    duration: float,
    on_sent: dict[int, float] | None = None,
    offsets: Sequence[float] | None = None,
) -> Latencies:
    """Send request i at start + i/rate, whatever earlier requests are doing (open loop),
    so a slow server cannot slow the offered load down (no coordinated omission).
    `on_sent`, when given, gets the perf_counter time each request index was sent at.
    `offsets`, when given, are the send times instead (seconds from the start, ascending;
    see `poisson_offsets`): those before `duration` are sent."""
    if offsets is None:
        count = min(len(requests), int(rate * duration))
    else:
        count = sum(1 for at in offsets[: len(requests)] if at < duration)

    def offset(index: int) -> float:
        return offsets[index] if offsets is not None else index / rate

    result = Latencies(offered_rate=rate, sent=count)
    tasks: set[asyncio.Task[None]] = set()

    async def one(index: int, scheduled: float) -> None:
        sent_at = time.perf_counter()
        if on_sent is not None:
            on_sent[index] = sent_at
        status = await _send(session, url, requests[index])
        done = time.perf_counter()
        result.send_lag.append(sent_at - scheduled)
        if status == 200:
            result.ok += 1
            result.from_schedule.append(done - scheduled)
            result.from_send.append(done - sent_at)
        else:
            result.statuses[status] = result.statuses.get(status, 0) + 1

    started = time.perf_counter()
    index = 0
    while index < count:
        now = time.perf_counter()
        due = started + offset(index)
        if due > now:
            await asyncio.sleep(due - now)
            continue
        while index < count and started + offset(index) <= now:
            task = asyncio.create_task(one(index, started + offset(index)))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            index += 1
    if tasks:  # each request is bounded by REQUEST_TIMEOUT
        await asyncio.wait(tasks, timeout=REQUEST_TIMEOUT + 5)
    result.elapsed = time.perf_counter() - started
    return result


def poisson_offsets(count: int, rate: float, seed: int = 1) -> list[float]:
    """Send times of a Poisson process at `rate` a second (exponential gaps, seeded): how
    independent people's actions arrive, unlike evenly spaced ones, which can line up
    with a server's own timers."""
    rng = random.Random(seed)
    times: list[float] = []
    at = 0.0
    for _ in range(count):
        times.append(at)
        at += rng.expovariate(rate)
    return times


# --- watching the emulators -------------------------------------------------------------------


class TagClock(list[T]):
    """An emulator's log (a list it appends to) that notes when each tagged item arrived.

    Put in place of the log, it stamps the first item carrying each tag with
    `time.perf_counter()`, the clock the load generator uses; `tag_of` gives an item's
    tag, or None for an item to leave unstamped."""

    def __init__(self, tag_of: Callable[[T], int | None]) -> None:
        super().__init__()
        self._tag_of = tag_of
        self.at: dict[int, float] = {}

    def append(self, item: T, /) -> None:
        super().append(item)
        tag = self._tag_of(item)
        if tag is not None:
            self.at.setdefault(tag, time.perf_counter())

    def seen(self, tags: Sequence[int]) -> int:
        return sum(1 for tag in tags if tag in self.at)


async def wait_until(check: Callable[[], bool], within: float, step: float = 0.02) -> bool:
    """Poll `check` until it holds (True) or `within` seconds have passed (False)."""
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(step)
    return True


# --- figures ---------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100), nearest rank; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))  # ceil(n * q / 100)
    return ordered[int(rank) - 1]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def write_text(stream: IO[str], text: str) -> None:
    stream.write(text + "\n")
    stream.flush()


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "ceiling":
        serve_ceiling(int(sys.argv[2]))
    else:
        sys.exit("usage: common.py ceiling PORT")


# ---- the command line every benchmark shares ------------------------------------------


def out(line: str) -> None:
    """A line of the report (standard output)."""
    print(line, flush=True)


def progress(step: str) -> None:
    """Where the run is (standard error, so the report stays clean)."""
    print(f"… {step}", file=sys.stderr, flush=True)


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def bench_parser(description: str | None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="short phases (about 1 minute)")
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="first wait up to SECONDS for the machine to be idle (other work skews figures)",
    )
    return parser


async def settle(wait_quiet: float) -> str:
    """Wait for a quiet machine if asked; the load average to report as "before"."""
    if wait_quiet > 0:
        busy = await wait_until_quiet(wait_quiet)
        progress(f"machine busy {busy:.0%} of a core before the start")
    return loadavg()
