"""The demo page's layout at a phone's width and a laptop's: facts about boxes (no
horizontal scrolling, the pane in use on screen, titles apart), and a screenshot of each
for a person to look at."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import combinations
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from tests.browser.support import (
    PHONE_VIEWPORT,
    Demo,
    add_phone,
    channel,
    open_thread,
    text_from_phone,
)

pytestmark = pytest.mark.browser
expect.set_options(timeout=10_000)

Box = dict[str, float]


@pytest.fixture
def phone_page(browser: Browser, demo: Demo) -> Iterator[Page]:
    context = browser.new_context(viewport=PHONE_VIEWPORT, is_mobile=True, has_touch=True)
    context.set_default_timeout(10_000)
    opened = context.new_page()
    opened.goto(demo.url)
    opened.get_by_role("status").filter(has_text="live").wait_for()
    yield opened
    context.close()


def box(locator: Locator) -> Box:
    found = locator.bounding_box()
    assert found is not None, f"{locator} is not on the page"
    return found


def window_width(page: Page) -> float:
    """The device's width: a mobile browser widens `innerWidth` to fit a page too wide."""
    assert page.viewport_size is not None
    return page.viewport_size["width"]


def no_horizontal_scroll(page: Page) -> None:
    width, inner = page.evaluate("[document.scrollingElement.scrollWidth, window.innerWidth]")
    assert width <= inner, f"the page is {width} px wide in a {inner} px window"
    assert inner == window_width(page), f"the page is laid out {inner} px wide"


def on_screen(page: Page, locator: Locator) -> Box:
    """Visible, not squeezed to nothing, and within the window's width."""
    expect(locator).to_be_visible()
    found = box(locator)
    assert found["width"] > 0, found
    assert found["height"] > 0, found
    assert found["x"] >= 0, found
    assert found["x"] + found["width"] <= window_width(page) + 0.5, found
    return found


def apart(boxes: list[Box]) -> bool:
    def overlap(a: Box, b: Box) -> bool:
        return (
            a["x"] < b["x"] + b["width"]
            and b["x"] < a["x"] + a["width"]
            and a["y"] < b["y"] + b["height"]
            and b["y"] < a["y"] + a["height"]
        )

    return not any(overlap(a, b) for a, b in combinations(boxes, 2))


def titles_apart(page: Page, selector: str) -> None:
    """The visible children of each matching header do not overlap one another."""
    for header in page.locator(selector).all():
        if not header.is_visible():
            continue
        shown = [box(child) for child in header.locator(":scope > *").all() if child.is_visible()]
        assert apart(shown), f"{selector}: {shown}"
        for child in shown:
            assert child["x"] >= 0
            assert child["x"] + child["width"] <= window_width(page) + 0.5


def tab(page: Page, name: str) -> Locator:
    return page.get_by_role("tablist", name="Panes").get_by_role("tab", name=name)


def test_a_phone_sees_one_pane_at_a_time_without_scrolling_sideways(
    phone_page: Page, shots: Path
) -> None:
    page = phone_page
    no_horizontal_scroll(page)
    titles_apart(page, ".topbar")
    expect(tab(page, "Phone")).to_have_attribute("aria-selected", "true")
    on_screen(page, page.get_by_role("log", name="Phone conversation"))
    expect(channel(page)).to_be_hidden()
    page.screenshot(path=shots / "phone-phone.png")

    tab(page, "Slack").click()
    expect(tab(page, "Slack")).to_have_attribute("aria-selected", "true")
    expect(page.get_by_role("log", name="Phone conversation")).to_be_hidden()
    log = on_screen(page, channel(page))
    assert log["width"] > 0.9 * window_width(page)
    on_screen(page, page.get_by_label("Message #sms-inbox"))
    no_horizontal_scroll(page)
    titles_apart(page, ".topbar")
    titles_apart(page, ".pane-head")

    page.get_by_role("button", name="Scenarios").click()
    on_screen(page, page.get_by_role("menu", name="Scenarios"))
    no_horizontal_scroll(page)
    page.keyboard.press("Escape")


def test_a_thread_opens_full_width_on_a_phone_with_a_way_back(
    phone_page: Page, shots: Path
) -> None:
    page = phone_page
    add_phone(page, "+1 415 555 0131", "Ada Brooks")
    text_from_phone(page, "Do you have oat milk?")
    page.get_by_role("button", name="Show its thread in Slack").click()

    thread = page.get_by_role("log", name="Thread messages")
    expect(thread).to_contain_text("Do you have oat milk?")
    expect(tab(page, "Thread")).to_have_attribute("aria-selected", "true")
    shown = on_screen(page, page.get_by_role("complementary", name="Thread"))
    assert shown["width"] > 0.9 * window_width(page)
    expect(channel(page)).to_be_hidden()
    on_screen(page, page.get_by_label("Reply in thread"))
    no_horizontal_scroll(page)
    titles_apart(page, ".pane-head")
    page.screenshot(path=shots / "phone-thread.png")

    page.get_by_role("button", name="Back to #sms-inbox").click()
    log = on_screen(page, channel(page))
    assert log["width"] > 0.9 * window_width(page)
    expect(thread).to_be_hidden()
    composer = page.get_by_label("Message #sms-inbox")
    on_screen(page, composer)
    composer.fill("/sms help")
    page.get_by_role("button", name="Send to channel").click()
    expect(page.get_by_role("status", name="Last command")).to_contain_text("/sms help")
    no_horizontal_scroll(page)

    # The thread stays a tab away, and the channel's card opens it again.
    tab(page, "Thread").click()
    expect(thread).to_contain_text("Do you have oat milk?")
    page.get_by_role("button", name="Close thread").click()
    expect(tab(page, "Thread")).to_have_count(0)
    open_thread(page, "Ada Brooks")
    expect(thread).to_contain_text("Do you have oat milk?")
    assert box(page.get_by_role("complementary", name="Thread"))["width"] > 0


def test_a_wide_screen_keeps_phone_channel_and_thread_side_by_side(page: Page, shots: Path) -> None:
    add_phone(page, "+1 415 555 0132", "Bo Lindqvist")
    text_from_phone(page, "Is the rye sliced?")
    thread = open_thread(page, "Bo Lindqvist")
    expect(thread).to_contain_text("Is the rye sliced?")

    expect(page.get_by_role("tablist", name="Panes")).to_be_hidden()
    phone = on_screen(page, page.get_by_role("log", name="Phone conversation"))
    inbox = on_screen(page, channel(page))
    aside = on_screen(page, page.get_by_role("complementary", name="Thread"))
    assert phone["x"] + phone["width"] <= inbox["x"] <= aside["x"]
    assert inbox["width"] > 300
    assert aside["width"] > 300
    no_horizontal_scroll(page)
    titles_apart(page, ".topbar")
    titles_apart(page, ".pane-head")
    page.screenshot(path=shots / "wide-thread.png")


def test_a_mid_width_window_keeps_the_channel_readable_next_to_a_thread(
    browser: Browser, demo: Demo
) -> None:
    context = browser.new_context(viewport={"width": 1024, "height": 768})
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        page.goto(demo.url)
        add_phone(page, "+1 415 555 0133", "Cy Okafor")
        text_from_phone(page, "Gluten-free today?")
        open_thread(page, "Cy Okafor")
        expect(page.get_by_role("log", name="Thread messages")).to_contain_text("Gluten-free")
        assert on_screen(page, channel(page))["width"] > 240
        no_horizontal_scroll(page)
    finally:
        context.close()
