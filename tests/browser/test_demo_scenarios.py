"""Every scenario of the demo's menu shows what its title promises, on a fresh demo and
whatever the time of day: picked from the menu in chromium, then checked on the phone and
in the Slack thread. The checks are on outcomes (sent, held for a person, blocked, sent
by the assistant) and on the facts the sample knowledge base holds, never on wording."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from bridge.sandbox.demo_sample import Scenario, load_people, load_scenarios
from tests.browser.support import (
    Demo,
    channel,
    open_thread,
    phone_log,
    received,
    start_demo,
    stop_demo,
)

pytestmark = pytest.mark.browser
# Scenarios pause between steps so a person can follow, and replies wait out the sample
# config's undo window: a scenario takes a few seconds.
expect.set_options(timeout=20_000)

SCENARIOS = {scenario.id: scenario for scenario in load_scenarios()}
NAMES = {subscriber.phone: subscriber.name for subscriber in load_people().subscribers}
DELIVERED = "Delivered ✓✓"
# Facts of the sample knowledge base (bridge/sandbox/sample) that a scenario surfaces.
GLUTEN_FREE_FACT = "Wednesday noon"  # knowledge.faq in business.yml: when to order
SATURDAY_OPENING = re.compile(r"(?<![\d:])8:00")  # business.yml hours: sat 08:00-14:00
BUSINESS_CONTACT = "(415) 555-0188"  # business.contact in business.yml
AWAY_REPLY = "We're closed now"  # hours.away_reply in business.yml
# The poll scenario's tally once every vote is in (scenarios.yml: who answers what).
POLL_COUNTS = {"Mango": 1, "Strawberry": 2, "Vanilla": 2}


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    """A fresh demo for each scenario: what a newcomer sees after `./dev demo`."""
    running = start_demo(tmp_path)
    yield running
    stop_demo(running)


def pick(page: Page, scenario_id: str) -> None:
    page.get_by_role("button", name="Scenarios").click()
    page.get_by_role("menuitem", name=SCENARIOS[scenario_id].title).click()


def watch(page: Page, scenario_id: str) -> tuple[Scenario, str]:
    """Show the phone the scenario texts from: (the scenario, that phone)."""
    scenario = SCENARIOS[scenario_id]
    phone = next(step.text.phone for step in scenario.steps if step.text is not None)
    page.get_by_label("Subscriber").select_option(phone)
    return scenario, phone


def texted(scenario: Scenario) -> str:
    """The body of the scenario's first text."""
    return next(step.text.body for step in scenario.steps if step.text is not None)


def agent_reply(scenario: Scenario) -> str:
    return next(step.reply.body for step in scenario.steps if step.reply is not None)


def card(page: Page, phone: str, body: str) -> Locator:
    """The customer's text in its Slack thread, with what the bridge made of it."""
    thread = open_thread(page, NAMES[phone])
    return thread.get_by_role("article", name=f"{NAMES[phone]}: {body}")


def check_support(page: Page) -> None:
    scenario, phone = watch(page, "support")
    # The knowledge base's answer reaches the phone ...
    expect(received(page, GLUTEN_FREE_FACT).locator(".caption")).to_have_text(DELIVERED)
    # ... as the draft a person sent from the thread.
    text = card(page, phone, texted(scenario))
    expect(text).to_contain_text(GLUTEN_FREE_FACT)
    expect(text).to_contain_text("Sent by")
    expect(text.get_by_role("button", name="Send", exact=True)).to_have_count(0)


def check_order(page: Page) -> None:
    scenario, phone = watch(page, "order")
    # An order look-up is for a person; the agent's answer reaches the phone.
    expect(received(page, agent_reply(scenario)).locator(".caption")).to_have_text(DELIVERED)
    expect(card(page, phone, texted(scenario))).to_contain_text("Needs a person")


def check_appointment(page: Page) -> None:
    scenario, phone = watch(page, "appointment")
    # The wish is shown as an appointment request, and a person confirms it.
    expect(received(page, agent_reply(scenario)).locator(".caption")).to_have_text(DELIVERED)
    expect(card(page, phone, texted(scenario))).to_contain_text("Appointment request")


def check_stop_start(page: Page) -> None:
    scenario, phone = watch(page, "stop_start")
    page.get_by_label("Acting as").select_option(label="Sam Rivera")  # who replies
    log = phone_log(page)
    expect(log.locator(".bubble-row.received").filter(has_text="unsubscribed")).to_have_count(1)
    # Sam's reply after STOP is blocked: Sam is told, the phone gets nothing ...
    thread = open_thread(page, NAMES[phone])
    expect(thread.locator(".ephemeral").filter(has_text="Not sent")).to_have_count(1)
    # ... and START opts back in.
    expect(log.locator(".bubble-row.received").filter(has_text="re-subscribed")).to_have_count(1)
    expect(received(page, agent_reply(scenario))).to_have_count(0)


def check_help(page: Page) -> None:
    watch(page, "help")
    expect(received(page, BUSINESS_CONTACT).locator(".caption")).to_have_text(DELIVERED)


def check_after_hours(page: Page) -> None:
    scenario, phone = watch(page, "after_hours")
    bubbles = phone_log(page).locator(".bubble-row.received")
    # The bakery is closed: the assistant answers from the knowledge base by itself ...
    answer = bubbles.filter(has_text=SATURDAY_OPENING).filter(has_not_text=AWAY_REPLY)
    expect(answer.locator(".caption")).to_have_text(DELIVERED)
    text = card(page, phone, texted(scenario))
    expect(text).to_contain_text("Sent automatically by the assistant")
    # ... and what it cannot answer gets the away reply, once: when the bakery opens.
    away = bubbles.filter(has_text=AWAY_REPLY)
    expect(away).to_have_count(1)
    expect(away).to_contain_text("we open tomorrow at 8:00 and will reply by tomorrow at 10:00")
    expect(away.locator(".caption")).to_have_text(DELIVERED)


def results(page: Page) -> Locator:
    """The poll's results message in the channel (its line per option: `Label — N (P%)`)."""
    return channel(page).get_by_role("article").filter(has_text=re.compile(r"Vanilla\s+—"))


def check_poll(page: Page) -> None:
    scenario = SCENARIOS["poll"]
    campaign = next(step.campaign for step in scenario.steps if step.campaign is not None)
    question = next(
        step.text for step in scenario.steps if step.text and step.text.body.endswith("?")
    )
    poll_text = campaign.text.format(first_name=NAMES[question.phone].split()[0])
    # The poll reaches the phones ...
    page.get_by_label("Subscriber").select_option(question.phone)
    expect(received(page, poll_text).locator(".caption")).to_have_text(DELIVERED)
    # ... the votes are tallied live in one results message (the changed vote moved) ...
    message = results(page)
    for label, count in POLL_COUNTS.items():
        expect(message).to_contain_text(re.compile(rf"{label}\s+—\s+{count}\s+\("))
    expect(message).to_have_count(1)
    # ... a question is no vote: it reaches the inbox, quoting the poll ...
    thread = open_thread(page, NAMES[question.phone])
    text = thread.get_by_role("article").filter(has_text=question.body)
    expect(text.locator("blockquote")).to_have_text(poll_text)
    # ... and once the poll closes, its chart is in the results' thread.
    message.get_by_role("button", name=re.compile(r"^\d+ repl")).click()
    chart = page.get_by_role("log", name="Thread messages").locator(".files img")
    expect(chart).to_have_count(1)


CHECKS: dict[str, Callable[[Page], None]] = {
    "support": check_support,
    "order": check_order,
    "appointment": check_appointment,
    "stop_start": check_stop_start,
    "help": check_help,
    "after_hours": check_after_hours,
    "poll": check_poll,
}


def test_every_scenario_of_the_menu_is_checked(page: Page) -> None:
    page.get_by_role("button", name="Scenarios").click()
    items = page.get_by_role("menuitem")
    expect(items).to_have_count(len(SCENARIOS))
    assert [SCENARIOS[i].title for i in CHECKS] == items.all_inner_texts()


@pytest.mark.parametrize("scenario_id", list(CHECKS))
def test_a_scenario_shows_what_its_title_promises(page: Page, scenario_id: str) -> None:
    pick(page, scenario_id)
    CHECKS[scenario_id](page)


def test_scenarios_at_different_hours_picked_at_once_each_keep_their_promise(page: Page) -> None:
    # The second waits until the first is done with the bakery's clock.
    pick(page, "after_hours")
    pick(page, "support")
    check_support(page)
    check_after_hours(page)


def test_the_page_tells_the_time_the_bridge_reads_the_opening_hours_at(page: Page) -> None:
    pick(page, "after_hours")  # at the bakery: Friday 21:30
    expect(page.locator("#business")).to_contain_text(re.compile(r"it is Fri (21|22):"))
