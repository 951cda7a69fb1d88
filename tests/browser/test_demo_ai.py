"""AI drafts on the demo page: `sms-bridge demo --config` with the sample knowledge base
and auto-reply off, so every answer waits for a person's click whatever the hour."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from playwright.sync_api import Page, expect

from bridge.sandbox.demo_sample import SAMPLE_DIR
from tests.browser.support import (
    Demo,
    add_phone,
    open_thread,
    received,
    start_demo,
    stop_demo,
    text_from_phone,
)

pytestmark = pytest.mark.browser
expect.set_options(timeout=10_000)
ANSWER = "Yes, every Friday; order by Wednesday noon."


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    workdir = tmp_path_factory.mktemp("demo-ai")
    config = yaml.safe_load((SAMPLE_DIR / "business.yml").read_text())
    config["ai"]["auto_reply"]["enabled"] = False
    config["knowledge"] |= {"path": str(SAMPLE_DIR / "kb"), "allow_outside": True}
    path = workdir / "business.yml"
    path.write_text(yaml.safe_dump(config))
    running = start_demo(workdir, "--config", str(path))
    yield running
    stop_demo(running)


def test_a_draft_is_sent_to_the_phone_with_one_click(page: Page, shots: Path) -> None:
    add_phone(page, "+1 415 555 0131", "Nia Brooks")
    text_from_phone(page, "do u bake gluten free bread?")
    thread = open_thread(page, "Nia Brooks")
    card = thread.get_by_role("article").filter(has_text="gluten free bread?")
    expect(card).to_contain_text("Suggested reply")
    expect(card).to_contain_text(ANSWER)
    page.screenshot(path=shots / "draft-card.png")

    card.get_by_role("button", name="Send", exact=True).click()

    expect(received(page, ANSWER).locator(".caption")).to_have_text("Delivered ✓✓")
    expect(card).to_contain_text("Sent by")
    expect(card.get_by_role("button", name="Send", exact=True)).to_have_count(0)


def test_a_draft_edited_in_a_dialog_sends_the_edit(page: Page) -> None:
    add_phone(page, "+1 415 555 0132", "Leo Grant")
    text_from_phone(page, "do you bake gluten-free bread?")
    thread = open_thread(page, "Leo Grant")
    card = thread.get_by_role("article").filter(has_text="gluten-free bread?")
    card.get_by_role("button", name="Edit & send").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("textbox")).to_have_value(ANSWER)
    dialog.get_by_role("textbox").fill("Yes! Fridays. Shall I save you a loaf?")
    dialog.get_by_role("button", name="Send").click()

    expect(received(page, "Shall I save you a loaf?").locator(".caption")).to_have_text(
        "Delivered ✓✓"
    )
    expect(card).to_contain_text("Edited and sent by")


def test_what_needs_a_person_shows_why(page: Page) -> None:
    add_phone(page, "+1 415 555 0133", "Ada Wells")
    text_from_phone(page, "My cake was wrong and I want a refund")
    thread = open_thread(page, "Ada Wells")
    card = thread.get_by_role("article").filter(has_text="want a refund")
    expect(card).to_contain_text("Needs a person")
    expect(card.get_by_role("button", name="Send", exact=True)).to_have_count(0)
