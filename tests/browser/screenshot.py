"""Make the README's screenshots of the demo: `python -m tests.browser.screenshot [wide.png
[phone.png [poll.png [progress.png]]]]`.

Starts `sms-bridge demo`, plays a conversation on the page as a person would, and saves
it at a laptop's width (1280×800, `docs/demo.png`) and a phone's (390×844 at 2×,
`docs/demo-phone.png`: the thread, one pane at a time); then plays the poll scenario and
saves its results message with the chart in its thread (at 2×, `docs/poll-results.png`)
and its progress message (`docs/campaign-progress.png`).
"""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.browser.support import (
    CHROMIUM,
    CHROMIUM_ARGS,
    PHONE_VIEWPORT,
    VIEWPORT,
    channel,
    start_demo,
    stop_demo,
)

DOCS = Path(__file__).resolve().parents[2] / "docs"
WIDE = DOCS / "demo.png"
PHONE = DOCS / "demo-phone.png"
POLL = DOCS / "poll-results.png"
PROGRESS = DOCS / "campaign-progress.png"
DIEGO = "Diego Alvarez · +1 415-555-0178"
expect.set_options(timeout=15_000)


def _open(browser: Browser, url: str, **context: Any) -> Page:
    page = browser.new_context(**context).new_page()
    page.set_default_timeout(15_000)
    page.goto(url)
    expect(page.get_by_role("status").filter(has_text="live")).to_be_visible()
    return page


def wide(browser: Browser, url: str, out: Path) -> None:
    """Three customers text at once; Jordan answers Diego in his thread."""
    page = _open(browser, url, viewport=VIEWPORT)
    for scenario in ("support question", "appointment", "Where is my order?"):
        page.get_by_role("button", name="Scenarios").click()
        page.get_by_role("menuitem", name=scenario).click()
    page.get_by_label("Subscriber").select_option(label=DIEGO)
    phone = page.get_by_role("log", name="Phone conversation")
    expect(phone.get_by_text("Delivered")).to_be_visible()
    page.get_by_label("Acting as").select_option(label="Jordan Lee")
    page.get_by_role("button", name="Show its thread in Slack").click()
    thread = page.get_by_role("log", name="Thread messages")
    expect(thread.get_by_text("ready Saturday at 9am")).to_be_visible()
    page.get_by_label("Reply in thread").fill("note: cake is in the walk-in, ready to box")
    page.wait_for_timeout(300)  # the caret and hover states settle; a picture, not a test
    page.screenshot(path=str(out))


def phone(browser: Browser, url: str, out: Path) -> None:
    """The same conversation on a phone: its thread, full width, a tab away from the rest."""
    page = _open(
        browser, url, viewport=PHONE_VIEWPORT, device_scale_factor=2, is_mobile=True, has_touch=True
    )
    page.get_by_label("Subscriber").select_option(label=DIEGO)
    page.get_by_label("Acting as").select_option(label="Jordan Lee")
    page.get_by_role("button", name="Show its thread in Slack").click()
    thread = page.get_by_role("log", name="Thread messages")
    expect(thread.get_by_text("ready Saturday at 9am")).to_be_visible()
    page.wait_for_timeout(300)
    page.screenshot(path=str(out))


def poll(browser: Browser, url: str, out: Path, progress_out: Path) -> None:
    """The poll scenario to its end: the results message with, in its thread, the chart;
    and the campaign's progress message."""
    page = _open(browser, url, viewport=VIEWPORT, device_scale_factor=2)
    page.get_by_role("button", name="Scenarios").click()
    page.get_by_role("menuitem", name=re.compile(r"^Send a poll")).click()
    results = channel(page).get_by_role("article").filter(has_text=re.compile(r"Vanilla\s+—"))
    replies = results.get_by_role("button", name=re.compile(r"^\d+ repl"))
    expect(replies).to_be_visible(timeout=60_000)  # the chart, once the poll closes
    replies.click()
    thread = page.get_by_role("log", name="Thread messages")
    expect(thread.locator(".files img")).to_have_count(1)
    page.wait_for_timeout(300)
    # The thread's two messages, not the empty log below them.
    first, last, box = (
        locator.bounding_box()
        for locator in (
            thread.get_by_role("article").first,
            thread.get_by_role("article").last,
            thread,
        )
    )
    if first is None or last is None or box is None:
        raise RuntimeError("the poll's thread is not on screen")
    top, bottom = first["y"], last["y"] + last["height"]
    page.screenshot(
        path=str(out), clip={"x": box["x"], "y": top, "width": box["width"], "height": bottom - top}
    )
    progress = channel(page).get_by_role("article").filter(has_text=re.compile(r"delivered \d"))
    progress.screenshot(path=str(progress_out))


def main(
    wide_out: Path = WIDE,
    phone_out: Path = PHONE,
    poll_out: Path = POLL,
    progress_out: Path = PROGRESS,
) -> None:
    with tempfile.TemporaryDirectory() as workdir, sync_playwright() as driver:
        demo = start_demo(Path(workdir))
        try:
            browser = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            DOCS.mkdir(parents=True, exist_ok=True)
            wide(browser, demo.url, wide_out)
            phone(browser, demo.url, phone_out)
            poll(browser, demo.url, poll_out, progress_out)
            browser.close()
        finally:
            stop_demo(demo)
    for out in (wide_out, phone_out, poll_out, progress_out):
        print(f"{out}: {out.stat().st_size // 1024} KB")


if __name__ == "__main__":
    main(*(Path(arg) for arg in sys.argv[1:5]))
