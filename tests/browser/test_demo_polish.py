"""Small things a newcomer notices on the demo page: the command status line reads as a
sentence, the App Home filter shows the filter in use, a text that fails stays in the
phone's box, notes only you can see behave as Slack's, and times are local."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import BrowserContext, Locator, Page, Route, expect

from tests.browser.support import (
    Demo,
    add_phone,
    channel,
    open_thread,
    phone_log,
    reply,
    text_from_phone,
)

pytestmark = pytest.mark.browser
expect.set_options(timeout=10_000)
NOTES_SHOWN = 3  # the page shows this many of your notes per place, the latest


def command(page: Page, line: str) -> None:
    """Type a slash command in the channel and wait for the bridge's answer."""
    page.get_by_label("Message #sms-inbox").fill(line)
    page.get_by_role("button", name="Send to channel").click()
    answered = re.compile(rf"^{re.escape(line)} → (?!sent to the bridge)")
    expect(page.get_by_role("status", name="Last command")).to_have_text(answered)


def notes(page: Page) -> Locator:
    return channel(page).get_by_role("article", name=re.compile("^Only visible to you"))


def test_the_command_status_line_is_a_sentence(page: Page) -> None:
    add_phone(page, "+1 415 555 0141", "Dee Ford")
    text_from_phone(page, "Are you open on Monday?")
    expect(channel(page).get_by_role("article").filter(has_text="Dee Ford")).to_be_visible()
    status = page.get_by_role("status", name="Last command")

    command(page, "/sms assign (415) 555-0141 @Jordan")
    # The answer names people as Slack shows them, not as <@U…> tokens.
    expect(status).to_have_text(re.compile(r"→ .*@Jordan"))
    expect(status).not_to_contain_text("<@")

    command(page, "/sms resolve")  # answered with a picker: JSON with blocks
    expect(status).not_to_contain_text("{")
    expect(status).not_to_contain_text('"text"')


def test_the_app_home_filter_shows_the_filter_in_use(page: Page) -> None:
    page.get_by_role("button", name="SMS Bridge").click()
    home = page.get_by_label("App Home")
    # The inbox filter: the first select (the notification choices follow it).
    inbox_filter = home.get_by_role("combobox").first
    chosen = inbox_filter.locator("option:checked")
    expect(chosen).to_have_text("Open")

    inbox_filter.select_option(label="Mine")
    # Drawn again from the view the bridge published, the choice is still there.
    page.get_by_role("tab", name="Messages").click()
    page.get_by_role("tab", name="Home").click()
    expect(chosen).to_have_text("Mine")


def test_a_text_that_fails_stays_in_the_box_with_the_reason(page: Page) -> None:
    add_phone(page, "+1 415 555 0143", "Eve Gold")
    box = page.get_by_label("Text message")

    def down(route: Route) -> None:
        route.fulfill(status=503, json={"error": "the demo is restarting"})

    page.route("**/api/text", down)
    text_from_phone(page, "Can I order a cake?")
    expect(page.get_by_role("alert").filter(has_text="the demo is restarting")).to_be_visible()
    expect(box).to_have_value("Can I order a cake?")

    def refused(route: Route) -> None:
        route.fulfill(json={"ok": False, "detail": "the bridge answered 500"})

    page.unroute("**/api/text")
    page.route("**/api/text", refused)
    box.fill("Can I order two cakes?")
    page.get_by_role("button", name="Send text").click()
    expect(page.get_by_role("alert").filter(has_text="the bridge answered 500")).to_be_visible()
    expect(box).to_have_value("Can I order two cakes?")

    page.unroute("**/api/text")
    page.get_by_role("button", name="Send text").click()
    sent = phone_log(page).locator(".bubble-row.sent").filter(has_text="two cakes")
    expect(sent.locator(".caption")).to_have_text("✓ Sent")
    expect(box).to_have_value("")
    expect(page.get_by_role("alert").filter(has_text="the bridge answered 500")).to_have_count(0)


def test_notes_only_you_see_can_be_dismissed_keep_the_latest_and_go_on_reload(
    page: Page,
) -> None:
    for number in range(991, 996):
        command(page, f"/sms resolve #{number}")
    expect(notes(page)).to_have_count(NOTES_SHOWN)
    expect(notes(page).last).to_contain_text("No conversation")

    notes(page).first.get_by_role("button", name="Dismiss").click()
    expect(notes(page)).to_have_count(NOTES_SHOWN - 1)

    # As in Slack, they are there until the page is loaded again.
    page.reload()
    expect(page.get_by_role("status").filter(has_text="live")).to_be_visible()
    expect(channel(page).get_by_role("article").first).to_be_visible()
    expect(notes(page)).to_have_count(0)
    command(page, "/sms resolve #996")
    expect(notes(page)).to_have_count(1)


def test_the_opt_out_note_shows_local_time(page: Page) -> None:
    add_phone(page, "+1 415 555 0144", "Finn Hale")
    text_from_phone(page, "Any bagels?")
    thread = open_thread(page, "Finn Hale")
    expect(thread).to_contain_text("Any bagels?")
    text_from_phone(page, "STOP")
    expect(page.get_by_text("Twilio blocks texts to this number")).to_be_visible()

    reply(page, "We have sesame!")
    note = thread.get_by_role("article", name=re.compile(r"^Only visible to you: .*opted out"))
    expect(note.first).to_contain_text("opted out")
    expect(note.first).not_to_contain_text("UTC")
    assert "UTC" not in (note.first.get_attribute("aria-label") or "")


def test_nothing_is_sent_before_the_page_knows_who_sends(
    context: BrowserContext, demo: Demo
) -> None:
    # No state yet (its stream held back): a command typed now would go as nobody.
    opened = context.new_page()
    opened.route("**/api/events", lambda route: route.abort())
    opened.goto(demo.url)
    box = opened.get_by_label("Message #sms-inbox")
    box.fill("/sms resolve #997")
    expect(opened.get_by_role("button", name="Send to channel")).to_be_disabled()
    box.press("Enter")
    expect(box).to_have_value("/sms resolve #997")
