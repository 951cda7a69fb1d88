"""The demo's Outbox: the notifications the sample rules sent, as their recipients get
them. An urgent text from a phone is emailed to the on-call person at once, and posted,
signed, to the business's CRM webhook."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.support import add_phone, text_from_phone

pytestmark = pytest.mark.browser
expect.set_options(timeout=15_000)


def test_an_urgent_texts_email_is_in_the_outbox(page: Page, shots: Path) -> None:
    add_phone(page, "(415) 555-0133", "Nora Quinn")
    text_from_phone(page, "URGENT: my cake never arrived and the party is in an hour!")
    page.get_by_role("button", name="Outbox").click()
    outbox = page.get_by_role("log", name="Outbox")
    mail = outbox.locator(".outbox-item[data-kind=email]").filter(has_text="Nora Quinn")
    expect(mail).to_contain_text("sam@harborstreet.example")
    expect(mail.locator("h3")).to_contain_text("Urgent text from Nora Quinn (+1 415-555-0133)")
    expect(mail).to_contain_text("my cake never arrived")
    page.screenshot(path=shots / "outbox.png")


def test_an_urgent_text_is_posted_to_the_crm_webhook_signed(page: Page) -> None:
    add_phone(page, "(415) 555-0134", "Omar Hale")
    text_from_phone(page, "URGENT: the delivery van hit our gate, the order is ruined!")
    page.get_by_role("button", name="Outbox").click()
    outbox = page.get_by_role("log", name="Outbox")
    hook = outbox.locator(".outbox-item[data-kind=webhook]").filter(has_text="Omar Hale")
    expect(hook).to_contain_text("crm")
    expect(hook.locator("h3")).to_contain_text("message.received · signature valid")
    expect(hook).to_contain_text('"body": "URGENT: the delivery van hit our gate')
