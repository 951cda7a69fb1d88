"""Running `sms-bridge demo` as a process and chromium for it: shared by the browser
tests and `screenshot.py`."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# Without these flags Chromium keeps dialling out on a closed network.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SMS_BRIDGE = str(Path(sys.executable).with_name("sms-bridge"))
STARTUP_BUDGET_SECONDS = 5.0
# How long start_demo waits at most: far past the budget, for a busy machine.
STARTUP_LIMIT_SECONDS = 60.0
VIEWPORT = {"width": 1280, "height": 800}
PHONE_VIEWPORT = {"width": 390, "height": 844}  # an iPhone 12-15's CSS pixels


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Demo:
    url: str
    proc: subprocess.Popen[bytes]
    log: Path
    startup_cpu_seconds: float  # what start-up costs, however busy the machine


def cpu_seconds(pid: int) -> float:
    """The CPU time a process has used so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    user, system = int(fields[11]), int(fields[12])  # utime and stime, in clock ticks
    return (user + system) / os.sysconf("SC_CLK_TCK")


PORT_TRIES = 3  # a free port may be taken by another test's process before the demo binds it


def start_demo(workdir: Path, *args: str) -> Demo:
    """`sms-bridge demo --port N`, until it serves its page.

    It runs where an operator's real settings are around — in the environment and in a
    `.env` file — and must ignore them: the demo never reaches a real Slack, Twilio or
    database.
    """
    log = workdir / "demo.log"
    (workdir / ".env").write_text("SLACK_BOT_TOKEN=not-a-token\nPORT=not-a-port\n")
    env = os.environ | {
        "MONGODB_URI": "mongodb://db.example.invalid:27017",
        "SLACK_API_URL": "https://slack.example.invalid/api",
        "TWILIO_API_URL": "https://twilio.example.invalid",
        "BRIDGE_DB_PATH": str(workdir / "must-not-be-created.db"),
    }
    started = time.monotonic()
    for _ in range(PORT_TRIES):
        demo = _launch(log, workdir, env, args, started)
        if demo is not None:
            return demo
    raise AssertionError(f"sms-bridge demo found no free port: {log.read_text()[-3000:]}")


def _launch(
    log: Path, workdir: Path, env: dict[str, str], args: tuple[str, ...], started: float
) -> Demo | None:
    """The demo on a free port, serving its page; None if that port was taken."""
    port = free_port()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [SMS_BRIDGE, "demo", "--port", str(port), *args],
            cwd=workdir,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    while time.monotonic() - started < STARTUP_LIMIT_SECONDS:
        if proc.poll() is not None:
            said = log.read_text()
            if "address already in use" in said:
                return None
            raise AssertionError(f"sms-bridge demo exited: {said[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/", timeout=1) as answer:  # noqa: S310
                if answer.status == 200:
                    return Demo(url, proc, log, cpu_seconds(proc.pid))
        except OSError:
            time.sleep(0.05)
    proc.kill()
    proc.wait()
    raise AssertionError(f"sms-bridge demo did not serve its page: {log.read_text()[-3000:]}")


def stop_demo(demo: Demo) -> str:
    """Ctrl-C, as a person would; returns the output for the caller to check."""
    if demo.proc.poll() is None:
        demo.proc.send_signal(signal.SIGINT)
        try:
            demo.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            demo.proc.kill()
            demo.proc.wait()
    return demo.log.read_text()


# -- what a person does on the page -------------------------------------------------


def add_phone(page: Page, number: str, name: str) -> None:
    page.get_by_role("button", name="Add a phone").click()
    page.get_by_label("New phone number").fill(number)
    page.get_by_label("Name of the new phone's owner").fill(name)
    page.get_by_role("button", name="Add phone").click()
    expect(page.get_by_label("Subscriber")).to_contain_text(name)


def text_from_phone(page: Page, body: str) -> None:
    page.get_by_label("Text message").fill(body)
    page.get_by_role("button", name="Send text").click()


def phone_log(page: Page) -> Locator:
    return page.get_by_role("log", name="Phone conversation")


def channel(page: Page) -> Locator:
    return page.get_by_role("log", name="#sms-inbox messages")


def open_thread(page: Page, name: str) -> Locator:
    """Open the conversation's thread from its header card in the channel."""
    card = channel(page).get_by_role("article").filter(has_text=name)
    card.get_by_role("button", name=re.compile(r"^\d+ repl")).click()
    return page.get_by_role("log", name="Thread messages")


def reply(page: Page, text: str) -> None:
    page.get_by_label("Reply in thread").fill(text)
    page.get_by_role("button", name="Send reply").click()


def received(page: Page, body: str) -> Locator:
    """A text the phone received, with its delivery caption."""
    return phone_log(page).locator(".bubble-row.received").filter(has_text=body)
