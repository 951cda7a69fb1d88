"""Make the README's screenshot of the demo: `python -m tests.browser.screenshot [out.png]`.

Starts `sms-bridge demo`, plays a conversation on the page as a person would, and saves
a 1280×800 PNG (default `docs/demo.png`).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

from tests.browser.support import CHROMIUM, CHROMIUM_ARGS, VIEWPORT, start_demo, stop_demo

OUT = Path(__file__).resolve().parents[2] / "docs" / "demo.png"
expect.set_options(timeout=15_000)


def main(out: Path = OUT) -> None:
    with tempfile.TemporaryDirectory() as workdir, sync_playwright() as driver:
        demo = start_demo(Path(workdir))
        try:
            browser = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport=VIEWPORT)
            page.set_default_timeout(15_000)
            page.goto(demo.url)
            expect(page.get_by_role("status").filter(has_text="live")).to_be_visible()

            # Three customers text at once; Jordan answers Diego in his thread.
            for scenario in ("support question", "appointment", "Where is my order?"):
                page.get_by_role("button", name="Scenarios").click()
                page.get_by_role("menuitem", name=scenario).click()
            page.get_by_label("Subscriber").select_option(label="Diego Alvarez · +1 415-555-0178")
            phone = page.get_by_role("log", name="Phone conversation")
            expect(phone.get_by_text("Delivered")).to_be_visible()
            page.get_by_label("Acting as").select_option(label="Jordan Lee")
            page.get_by_role("button", name="Show its thread in Slack").click()
            thread = page.get_by_role("log", name="Thread messages")
            expect(thread.get_by_text("ready Saturday at 9am")).to_be_visible()
            page.get_by_label("Reply in thread").fill("note: cake is in the walk-in, ready to box")
            page.wait_for_timeout(300)
            out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(out))
            browser.close()
        finally:
            stop_demo(demo)
    print(f"{out}: {out.stat().st_size // 1024} KB")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT)
