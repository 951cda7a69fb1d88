"""The first-response timer (`notifications.sla`), through the real bridge app, slack_sdk
and twilio clients against the emulators.

Time moves by hand: the outbox and the timer read a clock the test advances (`later`),
and the business's opening hours are read on a demo clock frozen at a day and hour of
its week, so "open" and "closed" do not depend on when the tests run."""

from __future__ import annotations

import contextlib
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from bridge.config import Business, BusinessConfig
from bridge.jobs import first_response_job
from bridge.models import ConversationPatch, JobKind, Message, utcnow
from bridge.sandbox.demo_clock import DemoClock, WeekTime, on_clock
from bridge.sandbox.slack_emulator import SlackEmulator
from bridge.sandbox.twilio_emulator import TwilioEmulator
from bridge.sandbox.wiring import BUSINESS
from bridge.store.base import Store
from bridge.store.sqlite import SQLiteStore
from tests.support import (
    AGENT,
    INBOX,
    BridgeUnderTest,
    agent_replies,
    eventually,
    eventually_async,
    open_thread,
    thread_texts,
)

ANA = "+14155550123"
ON_CALL = "S0ONCALL"
LA = ZoneInfo("America/Los_Angeles")
ESCALATION = f":alarm_clock: No reply for 15 business minutes — <@{AGENT}> <!subteam^{ON_CALL}>"
CONFIG: dict[str, Any] = {
    "business": {
        "name": "Harbor Street Bakery",
        "timezone": "America/Los_Angeles",
        "hours": {"mon-fri": "07:00-18:00"},
    },
    "notifications": {
        "on_call": ON_CALL,
        "sla": {"first_response_minutes": 15, "escalate": {"notify": ["assignee", "on_call"]}},
    },
    "slack": {"undo_seconds": 0},
}


def frozen(at: str) -> BusinessConfig:
    """The config with the business's clock at `at` ("wed 10:00")."""
    config = BusinessConfig.model_validate(CONFIG)
    clock = DemoClock()
    clock.move_to(WeekTime.parse(at), config.business)
    return config.model_copy(update={"business": on_clock(config.business, clock)})


@pytest.fixture
def business_config(request: pytest.FixtureRequest) -> BusinessConfig:
    return frozen(getattr(request, "param", "wed 10:00"))


@pytest.fixture
def bridge_store(db_path: Path) -> Store:
    return SQLiteStore(db_path)


class Later:
    """The time the outbox and the timer see: now, plus what the test moved it on."""

    def __init__(self) -> None:
        self.ahead = timedelta(0)

    def now(self) -> datetime:
        return utcnow() + self.ahead


@pytest.fixture
def later(monkeypatch: pytest.MonkeyPatch) -> Later:
    clock = Later()
    monkeypatch.setattr("bridge.delivery.outbox.utcnow", clock.now)
    monkeypatch.setattr("bridge.threading.first_response.utcnow", clock.now)
    return clock


@pytest.fixture(autouse=True)
def team(twilio: TwilioEmulator, slack: SlackEmulator) -> None:
    twilio.keyword_opt_out = False
    slack.add_user(AGENT, "ana", "Ana Ruiz", display_name="Ana")
    slack.join(INBOX, AGENT)


def escalations(slack: SlackEmulator) -> list[str]:
    return [t for t in thread_texts(slack, "0123") if "No reply for" in t]


async def waiting_text(store: Store) -> tuple[int, Message]:
    """Ana's conversation and the first text it waits with."""
    conversation = await store.find_conversation(BUSINESS, ANA)
    assert conversation is not None
    waiting = await store.waiting_since(conversation.id)
    assert waiting is not None
    return conversation.id, waiting


async def test_no_reply_escalates_once_even_when_the_check_runs_again(
    bridge: BridgeUnderTest, slack: SlackEmulator, bridge_store: Store, later: Later
) -> None:
    await open_thread(bridge, slack, ANA)
    conversation_id, text = await waiting_text(bridge_store)
    await bridge_store.update_conversation(conversation_id, ConversationPatch(assignee=AGENT))
    later.ahead = timedelta(minutes=16)
    await eventually(lambda: escalations(slack) == [ESCALATION], within=20)
    await bridge.idle()
    # The check runs again (a retry, a second process): still one escalation.
    await bridge_store.enqueue(first_response_job(text), run_at=utcnow())
    await bridge.idle()
    # A later text of the same wait (still unanswered) arms a check again: not a second
    # escalation.
    await bridge.text(ANA, "Anyone there?")
    later.ahead = timedelta(minutes=40)
    await bridge.idle()
    assert escalations(slack) == [ESCALATION]


async def test_a_reply_before_the_deadline_cancels_the_escalation(
    bridge: BridgeUnderTest, slack: SlackEmulator, twilio: TwilioEmulator, later: Later
) -> None:
    thread = await open_thread(bridge, slack, ANA)
    await agent_replies(bridge, slack, thread, "Hi Ana, how can we help?")
    await eventually(lambda: len(twilio.sent) == 1)
    later.ahead = timedelta(minutes=16)
    await bridge.idle()  # the check ran, and found the answer
    assert escalations(slack) == []


async def test_a_second_text_while_waiting_adds_no_second_timer(
    bridge: BridgeUnderTest, slack: SlackEmulator, bridge_store: Store, later: Later
) -> None:
    await open_thread(bridge, slack, ANA)
    await bridge.text(ANA, "Hello again?")
    await eventually(lambda: len(thread_texts(slack, "0123")) >= 2)
    assert (await bridge_store.queue_depth()).get(JobKind.CHECK_SLA.value) == 1
    later.ahead = timedelta(minutes=16)
    await eventually(lambda: len(escalations(slack)) == 1, within=20)
    await bridge.idle()
    assert len(escalations(slack)) == 1


async def retried(bridge: BridgeUnderTest) -> bool:
    """Whether a first-response check ran and chose to wait on."""
    async with aiohttp.ClientSession() as http, http.get(f"{bridge.url}/metrics") as response:
        metrics = await response.text()
    return f'bridge_job_retries_total{{kind="{JobKind.CHECK_SLA.value}"}} 1.0' in metrics


def check_due_at(db_path: Path) -> datetime:
    with contextlib.closing(sqlite3.connect(db_path)) as db:
        [(run_at,)] = db.execute("SELECT run_at FROM jobs WHERE kind = 'check_sla'").fetchall()
    return datetime.fromtimestamp(run_at, UTC)


def monday_deadline(business: Business, text_at: datetime) -> datetime:
    """The deadline of a text on Friday after 17:45: what is left of 15 minutes after
    Friday's 18:00, counted from Monday's 7:00 (in real time, across a DST change too)."""
    seen = business.seen_at(text_at).astimezone(LA)
    friday = seen.replace(hour=18, minute=0, second=0, microsecond=0)
    monday = friday.replace(hour=7) + timedelta(days=3)
    deadline = monday + (timedelta(minutes=15) - (friday.astimezone(UTC) - seen.astimezone(UTC)))
    return text_at + (deadline.astimezone(UTC) - seen.astimezone(UTC))


@pytest.mark.parametrize("business_config", ["fri 17:55"], indirect=True)
async def test_closed_hours_pause_the_timer(
    bridge: BridgeUnderTest,
    slack: SlackEmulator,
    bridge_store: Store,
    business_config: BusinessConfig,
    later: Later,
    db_path: Path,
) -> None:
    await open_thread(bridge, slack, ANA)  # five open minutes left on Friday
    _, text = await waiting_text(bridge_store)
    later.ahead = timedelta(minutes=16)
    await eventually_async(lambda: retried(bridge), within=20)  # it ran, and waits on
    assert escalations(slack) == []
    deadline = monday_deadline(business_config.business, text.created_at)
    assert abs(check_due_at(db_path) - deadline) < timedelta(seconds=1)
    later.ahead = deadline - utcnow() + timedelta(minutes=1)
    await eventually(lambda: len(escalations(slack)) == 1, within=20)
