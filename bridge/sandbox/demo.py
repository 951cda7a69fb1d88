"""`sms-bridge demo`: the whole product on one machine, with no accounts and no network.

One process, one event loop: the Slack and Twilio emulators on loopback ports, the
real bridge between them (built as `serve` builds it), and a web page with phones on
the left and the Slack inbox on the right. Ctrl-C stops everything.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import tempfile
import time
import webbrowser
from pathlib import Path

from aiohttp import web

from bridge import logs
from bridge.config import ConfigError
from bridge.sandbox.demo_sample import load_people, load_scenarios
from bridge.sandbox.demo_scenarios import ScenarioPlayer
from bridge.sandbox.demo_slack_client import SlackClient
from bridge.sandbox.demo_web import DemoPage
from bridge.sandbox.demo_world import Sandbox
from bridge.store.base import StoreUnavailable

HOST = "127.0.0.1"  # the demo is for the person at this machine only
HINT = "Text from a phone on the left, answer in the Slack thread on the right. Ctrl-C stops."


class DemoError(Exception):
    """Why the demo cannot run, in one line."""


def run_demo(port: int = 8080, open_browser: bool = False, config: Path | None = None) -> None:
    try:
        asyncio.run(_demo(port, open_browser, config))
    except KeyboardInterrupt:  # where the loop cannot take signals (Windows)
        pass
    except DemoError as exc:
        print(f"sms-bridge: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


async def _demo(port: int, open_browser: bool, config: Path | None) -> None:
    started = time.monotonic()
    stop = _stop_on_signals()
    logs.configure("warning")  # the bridge's own logs: only what needs attention
    try:
        people, scenarios = load_people(), load_scenarios()
    except (OSError, ValueError) as exc:
        raise DemoError(f"the demo's sample data is broken: {exc}") from None
    with tempfile.TemporaryDirectory(prefix="sms-bridge-demo-") as workdir:
        sandbox = Sandbox(people, Path(workdir))
        if config is not None:
            sandbox.config_source = config
        client = SlackClient(sandbox)
        player = ScenarioPlayer(sandbox, client, scenarios)
        page = DemoPage(sandbox, client, player)
        # Live pages hold a request open; they end when the sandbox closes its changes.
        runner = web.AppRunner(page.app, access_log=None, shutdown_timeout=2)
        background: list[asyncio.Task[None]] = []
        try:
            try:
                await sandbox.start()
            except (ConfigError, StoreUnavailable) as exc:
                raise DemoError(str(exc)) from None
            await runner.setup()
            try:
                await web.TCPSite(runner, HOST, port).start()
            except OSError as exc:
                reason = os.strerror(exc.errno).lower() if exc.errno else str(exc)
                raise DemoError(
                    f"cannot serve the page on {HOST}:{port} ({reason}); choose another with --port"
                ) from None
            url = f"http://{HOST}:{runner.addresses[0][1]}"
            sandbox.page_url = url
            print(f"sms-bridge demo: {url}  (ready in {time.monotonic() - started:.1f} s)")
            print(f"  {HINT}", flush=True)
            background = [asyncio.create_task(_opening_text(sandbox))]
            if open_browser:
                background.append(asyncio.create_task(_open_browser(url)))
            await stop.wait()
            print("sms-bridge demo: stopping", flush=True)
        finally:
            for task in background:
                task.cancel()
            await player.stop()
            sandbox.changes.close()  # ends the pages' live feeds
            await runner.cleanup()
            await sandbox.stop()


def _stop_on_signals() -> asyncio.Event:
    """Ctrl-C (or SIGTERM) asks for a clean stop; a second Ctrl-C stops at once."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def on_signal() -> None:
        if stop.is_set():
            os._exit(130)
        stop.set()

    if sys.platform == "win32":
        return stop  # no loop signal handlers there: Ctrl-C ends the process as usual
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal)
    return stop


async def _open_browser(url: str) -> None:
    opened = await asyncio.get_running_loop().run_in_executor(None, webbrowser.open, url)
    if not opened:
        print(f"  (no browser to open here: visit {url} yourself)", flush=True)


async def _opening_text(sandbox: Sandbox) -> None:
    """The first text of the demo, so the inbox has a conversation when the page opens."""
    opening = sandbox.people.opening_text
    if opening is None:
        return
    try:
        await sandbox.text(opening.phone, opening.text)
    except Exception as exc:  # the demo goes on without it
        print(f"sms-bridge demo: the opening text was not sent: {exc!r}", file=sys.stderr)
