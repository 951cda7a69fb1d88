"""The demo page, end to end: `sms-bridge demo` as a process, a person in chromium.

Each test uses its own phone number, so they share one demo process and stay fast.
"""

from __future__ import annotations

import re
import signal
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.support import (
    STARTUP_BUDGET_SECONDS,
    Demo,
    add_phone,
    channel,
    open_thread,
    phone_log,
    received,
    reply,
    start_demo,
    stop_demo,
    text_from_phone,
)
from tests.support import STOP_SECONDS

pytestmark = pytest.mark.browser
# Replies wait out the sample config's 2-second undo window before they are sent.
expect.set_options(timeout=10_000)


def test_the_page_is_served_within_five_seconds(demo: Demo) -> None:
    # In CPU time: the wall clock measures the machine's load as much as the start-up.
    assert demo.startup_cpu_seconds < STARTUP_BUDGET_SECONDS, demo.log.read_text()


def test_a_text_from_a_phone_lands_in_its_thread(page: Page, shots: Path) -> None:
    add_phone(page, "(415) 555-0111", "Lena Ortiz")
    # Markup in a text is the customer's words: never HTML, never a Slack mention.
    body = "Do you have rye & spelt today? <b>2</b> loaves please <!channel>"
    text_from_phone(page, body)

    mine = phone_log(page).locator(".bubble-row.sent").filter(has_text="rye & spelt")
    expect(mine.locator(".caption")).to_have_text("✓ Sent")
    card = channel(page).get_by_role("article").filter(has_text="Lena Ortiz")
    expect(card).to_contain_text("+1 415-555-0111")
    expect(channel(page)).not_to_contain_text("<!date")  # Slack's date token, rendered

    thread = open_thread(page, "Lena Ortiz")
    expect(thread.get_by_role("article").filter(has_text="rye & spelt")).to_contain_text(body)
    page.screenshot(path=shots / "text-in-thread.png")


def test_a_photo_from_a_phone_is_attached_in_its_thread(page: Page) -> None:
    add_phone(page, "+1 415 555 0116", "Zoe Park")
    page.get_by_label("Text message").fill("Can you make this for Sunday?")
    page.get_by_role("button", name="Send a photo").click()
    expect(phone_log(page).get_by_role("img", name="Photo")).to_be_visible()
    thread = open_thread(page, "Zoe Park")
    expect(thread).to_contain_text("Can you make this for Sunday?")
    picture = thread.get_by_role("img", name=re.compile(r"^mms-1\.jpe?g$"))
    expect(picture).to_be_visible()
    # the bytes Twilio kept: decode() waits for the load and fails on a broken image
    assert picture.evaluate("img => img.decode().then(() => img.naturalWidth)") > 0


def test_an_agent_reply_reaches_the_phone_with_a_delivered_tick(page: Page, shots: Path) -> None:
    add_phone(page, "+1 415 555 0112", "Omar Haddad")
    text_from_phone(page, "Is the sourdough ready?")
    thread = open_thread(page, "Omar Haddad")
    expect(thread).to_contain_text("Is the sourdough ready?")

    page.get_by_label("Acting as").select_option(label="Sam Rivera")
    reply(page, "Yes! Fresh at 7am, @Jordan will keep one for you.")

    # The agent's mention is a name in Slack and plain text on the phone.
    mine = thread.get_by_role("article").filter(has_text="Fresh at 7am")
    expect(mine.locator(".mention")).to_have_text("@Jordan")
    sms = received(page, "Yes! Fresh at 7am, @Jordan will keep one for you.")
    expect(sms.locator(".caption")).to_have_text("Delivered ✓✓")
    page.screenshot(path=shots / "reply-delivered.png")


def test_a_whatsapp_phone_gets_its_own_thread_and_the_reply_in_green(
    page: Page, shots: Path
) -> None:
    add_phone(page, "+1 415 555 0118", "Nadia Sousa")
    text_from_phone(page, "By SMS: are you open?")
    add_phone(page, "whatsapp:+1 415 555 0118", "Nadia Sousa")
    expect(page.locator("#phone")).to_have_class(re.compile(r"\bwhatsapp\b"))
    text_from_phone(page, "On WhatsApp: do you deliver?")
    mine = phone_log(page).locator(".bubble-row.sent").filter(has_text="do you deliver?")
    expect(mine.locator(".caption")).to_have_text("✓ Sent")
    # WhatsApp's green, not the SMS blue; retried, as the log re-renders on each status
    expect(mine.locator(".bubble")).to_have_css("background-color", "rgb(220, 248, 198)")

    cards = channel(page).get_by_role("article").filter(has_text="Nadia Sousa")
    expect(cards).to_have_count(2)  # one thread per channel
    card = cards.filter(has_text="WhatsApp")
    expect(card).to_contain_text("WhatsApp · +1 415-555-0118")
    card.get_by_role("button", name=re.compile(r"^\d+ repl")).click()
    thread = page.get_by_role("log", name="Thread messages")
    expect(thread).to_contain_text("On WhatsApp: do you deliver?")
    expect(thread).not_to_contain_text("By SMS")

    page.get_by_label("Acting as").select_option(label="Sam Rivera")
    reply(page, "Yes, every day from 9.")
    answer = received(page, "Yes, every day from 9.")
    expect(answer.locator(".caption")).to_have_text("Delivered ✓✓")
    page.screenshot(path=shots / "whatsapp-phone.png")


def test_after_stop_a_reply_is_blocked_and_the_agent_is_told(page: Page, shots: Path) -> None:
    add_phone(page, "415-555-0113", "Ruth Adler")
    text_from_phone(page, "Any croissants left?")
    thread = open_thread(page, "Ruth Adler")
    expect(thread).to_contain_text("Any croissants left?")

    text_from_phone(page, "STOP")
    expect(received(page, "successfully been unsubscribed")).to_be_visible()  # Twilio's own
    expect(page.get_by_text("Twilio blocks texts to this number")).to_be_visible()

    reply(page, "We saved you two!")
    reply(page, "Hello?")
    for text in ("We saved you two!", "Hello?"):
        blocked = thread.get_by_role("article").filter(has_text=text)
        expect(blocked.get_by_role("button", name=":no_entry_sign: 1")).to_be_visible()
    note = thread.get_by_role("article", name=re.compile(r"^Only visible to you: .*opted out"))
    expect(note.first).to_contain_text("Only visible to you")
    expect(received(page, "We saved you two!")).to_have_count(0)
    expect(received(page, "Hello?")).to_have_count(0)
    page.screenshot(path=shots / "stop-blocks-replies.png")


def test_buttons_and_dialogs_work_like_slack(page: Page, shots: Path) -> None:
    """A promotion to someone without marketing consent is held: the agent is asked,
    ephemerally with buttons, and edits it in a dialog into a support-only reply."""
    add_phone(page, "+1 415 555 0117", "Ivy Chen")
    text_from_phone(page, "Is the bakery open late on Friday?")
    thread = open_thread(page, "Ivy Chen")
    expect(thread).to_contain_text("open late on Friday?")

    reply(page, "Open until 8pm! Use promo code BREAD20 for 20% off.")
    held = thread.get_by_role("article", name=re.compile("^Only visible to you"))
    held.get_by_role("button", name="Edit as support-only").click()  # block_actions
    dialog = page.get_by_role("dialog")  # views.open
    expect(dialog).to_be_visible()
    dialog.get_by_role("textbox").fill("Open until 8pm on Friday!")
    page.screenshot(path=shots / "dialog.png")
    dialog.get_by_role("button", name="Send").click()  # view_submission
    expect(dialog).to_have_count(0)
    expect(received(page, "Open until 8pm on Friday!").locator(".caption")).to_have_text(
        "Delivered ✓✓"
    )
    expect(received(page, "BREAD20")).to_have_count(0)


def test_reactions_deletes_and_late_edits_reach_the_bridge(page: Page, shots: Path) -> None:
    add_phone(page, "+14155550114", "Kai Nakamura")
    text_from_phone(page, "Can I pick up at 5?")
    thread = open_thread(page, "Kai Nakamura")
    customer = thread.get_by_role("article").filter(has_text="Can I pick up at 5?")
    expect(customer).to_be_visible()

    # A reaction is added, then taken back, by clicking.
    customer.get_by_role("button", name="Add reaction").click()
    customer.get_by_role("button", name="React with :eyes:").click()
    eyes = customer.get_by_role("button", name=":eyes: 1")
    expect(eyes).to_have_attribute("aria-pressed", "true")
    eyes.click()
    expect(eyes).to_have_count(0)

    # Deleted within the undo window: never sent.
    reply(page, "Sorry, wrong customer")
    oops = thread.get_by_role("article").filter(has_text="Sorry, wrong customer")
    oops.get_by_role("button", name="Delete message").click()
    expect(oops).to_have_count(0)

    # Edited after it was sent: not sent again, and the agent is told.
    reply(page, "Yes, we are open until 6")
    expect(received(page, "Yes, we are open until 6").locator(".caption")).to_have_text(
        "Delivered ✓✓"
    )
    sent = thread.get_by_role("article").filter(has_text="Yes, we are open until 6")
    sent.get_by_role("button", name="Edit message").click()
    expect(page.get_by_label("Reply in thread")).to_have_value("Yes, we are open until 6")
    page.get_by_label("Reply in thread").fill("Yes, we are open until 7")
    page.get_by_role("button", name="Send reply").click()
    expect(thread.get_by_role("article").filter(has_text="open until 7")).to_contain_text(
        "(edited)"
    )
    told = thread.get_by_role("article", name=re.compile("^Only visible to you"))
    expect(told.first).to_be_visible()
    expect(received(page, "open until 7")).to_have_count(0)
    expect(received(page, "wrong customer")).to_have_count(0)
    page.screenshot(path=shots / "reactions-and-edits.png")


def test_slash_commands_and_the_app_home_are_delivered(page: Page) -> None:
    page.get_by_label("Message #sms-inbox").fill("/sms help")
    page.get_by_role("button", name="Send to channel").click()
    # Whatever the bridge answers, Slack's signed command reached it and it said 200.
    expect(page.get_by_role("status", name="Last command")).to_contain_text(
        re.compile(r"^/sms help → HTTP 200")
    )
    page.get_by_role("button", name="SMS Bridge").click()
    expect(page.get_by_label("App Home")).to_be_visible()
    page.get_by_role("tab", name="Messages").click()
    expect(page.get_by_role("tab", name="Messages")).to_have_attribute("aria-selected", "true")


def test_a_scenario_plays_on_the_phones(page: Page) -> None:
    page.get_by_role("button", name="Scenarios").click()
    page.get_by_role("menuitem", name="HELP").click()
    page.get_by_label("Subscriber").select_option(label="Diego Alvarez · +1 415-555-0178")
    help_text = phone_log(page).locator(".bubble-row.sent").filter(has_text=re.compile("^HELP"))
    expect(help_text.locator(".caption")).to_have_text("✓ Sent")


def test_ctrl_c_stops_the_demo_cleanly(tmp_path: Path) -> None:
    demo = start_demo(tmp_path)
    live = urllib.request.urlopen(f"{demo.url}/api/events", timeout=5)  # noqa: S310
    assert live.readline().startswith(b"id: ")  # a page is watching
    demo.proc.send_signal(signal.SIGINT)
    assert demo.proc.wait(timeout=STOP_SECONDS) == 0  # a bound, not a speed: machines get busy
    live.close()
    output = stop_demo(demo)
    assert "Traceback" not in output, output
    assert "stopping" in output
    assert not (tmp_path / "must-not-be-created.db").exists()  # BRIDGE_DB_PATH was ignored
