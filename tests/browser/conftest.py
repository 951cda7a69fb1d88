"""Browser tests: the real `sms-bridge demo` process, driven with Playwright through
Debian's chromium (Playwright cannot download browsers on these machines)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from tests.browser.support import CHROMIUM, CHROMIUM_ARGS, VIEWPORT, Demo, start_demo, stop_demo

# The /sms command tests wait for issue 5 (the command itself); delete this line then.


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: drives the demo page in chromium")


# Module scope, not session: Playwright's sync API keeps an event loop running in this
# thread while it is open, and asyncio tests after it (pytest-asyncio) need it closed.
@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    running = start_demo(tmp_path_factory.mktemp("demo"))
    yield running
    stop_demo(running)


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    # Playwright gives each launch a fresh, temporary user data dir.
    launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield launched
    launched.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    made = browser.new_context(viewport=VIEWPORT)
    made.set_default_timeout(10_000)
    yield made
    made.close()


@pytest.fixture
def page(context: BrowserContext, demo: Demo) -> Page:
    opened = context.new_page()
    opened.goto(demo.url)
    opened.get_by_role("status").filter(has_text="live").wait_for()
    return opened


@pytest.fixture(scope="session")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Screenshots, kept as test artifacts (pytest's temporary folder keeps the last runs)."""
    return tmp_path_factory.mktemp("screenshots")
