"""Routing in the demo: the sample business sends a quote request to #sales, whose
thread opens from the sidebar, given to one of the sales team."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.support import add_phone, channel, text_from_phone

pytestmark = pytest.mark.browser
expect.set_options(timeout=10_000)


def test_a_quote_request_opens_its_thread_in_the_sales_channel(page: Page, shots: Path) -> None:
    add_phone(page, "+1 415 555 0131", "Rosa Diaz")
    text_from_phone(page, "how much is a quote for 20 cakes")

    page.get_by_role("navigation", name="Slack sidebar").get_by_role(
        "button", name="# sales"
    ).click()
    sales = page.get_by_role("log", name="#sales messages")
    card = sales.get_by_role("article").filter(has_text="Rosa Diaz")
    expect(card).to_contain_text("@Sam")  # round robin: the sales team's first turn
    card.get_by_role("button", name=re.compile(r"^\d+ repl")).click()
    thread = page.get_by_role("log", name="Thread messages")
    expect(thread).to_contain_text("how much is a quote for 20 cakes")
    expect(thread).to_contain_text("Routed to sales")
    page.screenshot(path=shots / "routed-to-sales.png")

    page.get_by_role("button", name="# sms-inbox").click()
    expect(channel(page)).to_be_visible()
    expect(channel(page).get_by_role("article").filter(has_text="Rosa Diaz")).to_have_count(0)
