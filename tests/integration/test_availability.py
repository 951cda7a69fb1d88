"""Appointments with real times: "Can I move my appointment to Friday?" is answered with
Friday's free slots when the business provides availability — an HTTP endpoint of free
slots, or an iCalendar feed of busy times — and the customer's choice becomes the
appointment wish (the card and the webhook, as without availability). A local HTTP
server plays the business's calendar; no network."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from aiohttp import web
from structlog.testing import capture_logs

from bridge.ai.availability import BusyCalendar, SlotEndpoint
from bridge.ai.drafter import Turn
from bridge.ai.knowledge import BusinessProfile, KnowledgeBase, load_knowledge
from bridge.ai.offline import APPOINTMENT_ACK, OfflineDrafter
from bridge.ai.tools import Tools
from bridge.config import BusinessConfig
from bridge.sandbox.slack_emulator import SlackEmulator, SlackMessage
from bridge.sandbox.twilio_emulator import TwilioEmulator
from tests.support import AGENT, INBOX, BridgeUnderTest, eventually, on_loopback, parents

LA = ZoneInfo("America/Los_Angeles")
WEDNESDAY = datetime(2026, 3, 4, 10, 0, tzinfo=LA)  # the 6th is a Friday
MOVE = "Can I move my appointment to Friday?"
CUSTOMER = "+14155550123"
ICS = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Harbor Street//Busy//EN
BEGIN:VEVENT
UID:1@example
DTSTART;TZID=America/Los_Angeles:20260306T090000
DTEND;TZID=America/Los_Angeles:20260306T100000
SUMMARY:Busy
END:VEVENT
BEGIN:VEVENT
UID:2@example
DTSTART:20260306T193000Z
DTEND:20260306T210000Z
SUMMARY:Busy
END:VEVENT
BEGIN:VEVENT
UID:3@example
DTSTART;TZID=America/Los_Angeles:20260305T090000
DTEND;TZID=America/Los_Angeles:20260305T170000
SUMMARY:Busy all Thursday
END:VEVENT
BEGIN:VEVENT
UID:4@example
DTSTART;TZID=America/Los_Angeles:20260206T160000
DTEND;TZID=America/Los_Angeles:20260206T170000
RRULE:FREQ=WEEKLY;BYDAY=FR
SUMMARY:Weekly staff meeting
END:VEVENT
END:VCALENDAR
"""


@pytest.fixture
def kb() -> KnowledgeBase:
    profile = BusinessProfile(
        name="Harbor Street Salon",
        timezone="America/Los_Angeles",
        hours=(("mon-fri", "09:00-17:00"),),
    )
    return load_knowledge(None, profile=profile)


class Calendar:
    """The business's calendar: free slots by date, an .ics feed, and what was asked."""

    def __init__(self) -> None:
        self.asked: list[str] = []
        self.status = 200

    async def slots(self, request: web.Request) -> web.Response:
        self.asked.append(request.query.get("date", ""))
        if self.status != 200:
            return web.Response(status=self.status)
        free = {"2026-03-06": ["09:00", "10:30", "14:00"]}
        return web.json_response({"slots": free.get(request.query.get("date", ""), [])})

    async def ics(self, request: web.Request) -> web.Response:
        self.asked.append("ics")
        return web.Response(text=ICS, content_type="text/calendar")


@pytest.fixture
async def calendar() -> AsyncIterator[tuple[str, Calendar]]:
    site = Calendar()
    app = web.Application()
    app.router.add_get("/slots", site.slots)
    app.router.add_get("/busy.ics", site.ics)
    async with on_loopback(app) as base:
        yield base, site


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as opened:
        yield opened


async def draft_of(engine: OfflineDrafter, kb: KnowledgeBase, *turns: Turn) -> object:
    return await engine.draft(list(turns), knowledge=kb, now=WEDNESDAY, subscriber="+14155550123")


async def test_fridays_free_slots_come_from_the_endpoint(
    calendar: tuple[str, Calendar], session: aiohttp.ClientSession, kb: KnowledgeBase
) -> None:
    base, site = calendar
    slots = SlotEndpoint(session, f"{base}/slots")
    engine = OfflineDrafter(tools=Tools(appointments=True, availability=slots))
    draft = await engine.draft([("customer", MOVE)], knowledge=kb, now=WEDNESDAY)
    assert site.asked == ["2026-03-06"]
    assert draft.reply is not None
    assert all(time in draft.reply for time in ("9:00", "10:30", "14:00"))
    assert draft.sources == ["tool:availability"]
    assert draft.intent == "appointment"
    assert not draft.escalate  # a draft for the agent (or sent, in auto-reply mode)
    assert draft.appointment is None  # no wish yet: the customer chooses first


async def test_busy_times_of_an_ics_feed_leave_the_open_hours_free(
    calendar: tuple[str, Calendar], session: aiohttp.ClientSession, kb: KnowledgeBase
) -> None:
    base, _ = calendar
    busy = BusyCalendar(session, f"{base}/busy.ics", slot_minutes=60)
    engine = OfflineDrafter(tools=Tools(appointments=True, availability=busy))
    draft = await engine.draft([("customer", MOVE)], knowledge=kb, now=WEDNESDAY)
    assert draft.sources == ["tool:availability"]
    assert draft.reply is not None
    # Open 9-17; busy 9-10, 11:30-13 (given in UTC) and the weekly meeting 16-17.
    offered = {
        t
        for t in ("9:00", "10:00", "11:00", "12:00", "13:00", "14:00", "15:00", "16:00")
        if t in draft.reply
    }
    assert offered == {"10:00", "13:00", "14:00", "15:00"}


async def test_the_customers_choice_becomes_the_appointment_wish(
    calendar: tuple[str, Calendar], session: aiohttp.ClientSession, kb: KnowledgeBase
) -> None:
    base, _ = calendar
    engine = OfflineDrafter(
        tools=Tools(appointments=True, availability=SlotEndpoint(session, f"{base}/slots"))
    )
    offer = await engine.draft([("customer", MOVE)], knowledge=kb, now=WEDNESDAY)
    assert offer.reply is not None
    choice = await engine.draft(
        [("customer", MOVE), ("business", offer.reply), ("customer", "10:30 works, thanks")],
        knowledge=kb,
        now=WEDNESDAY,
    )
    assert choice.appointment is not None
    assert "10:30" in choice.appointment
    assert "2026-03-06" in choice.appointment or "Mar 6" in choice.appointment
    assert choice.reply == APPOINTMENT_ACK
    assert choice.intent == "appointment"


async def test_without_availability_the_wish_is_the_card_as_before(kb: KnowledgeBase) -> None:
    engine = OfflineDrafter(tools=Tools(appointments=True))
    draft = await engine.draft([("customer", MOVE)], knowledge=kb, now=WEDNESDAY)
    assert draft.appointment == MOVE
    assert draft.sources == ["tool:appointment_request"]


async def test_a_failing_calendar_leaves_the_card_and_is_logged_once_naming_the_setting(
    calendar: tuple[str, Calendar], session: aiohttp.ClientSession, kb: KnowledgeBase
) -> None:
    base, site = calendar
    site.status = 500
    engine = OfflineDrafter(
        tools=Tools(appointments=True, availability=SlotEndpoint(session, f"{base}/slots"))
    )
    with capture_logs() as logs:
        first = await engine.draft([("customer", MOVE)], knowledge=kb, now=WEDNESDAY)
        await engine.draft(
            [("customer", "can i reschedule my appt to friday")], knowledge=kb, now=WEDNESDAY
        )
    assert first.appointment == MOVE  # the card, as without availability
    problems = [entry for entry in logs if entry["log_level"] in ("warning", "error")]
    assert len(problems) == 1
    assert "ai.tools.availability" in str(problems[0])


async def test_free_slots_are_cached_for_a_short_while(
    calendar: tuple[str, Calendar], session: aiohttp.ClientSession, kb: KnowledgeBase
) -> None:
    base, site = calendar
    now = [0.0]
    slots = SlotEndpoint(session, f"{base}/slots", cache_seconds=60, clock=lambda: now[0])
    engine = OfflineDrafter(tools=Tools(appointments=True, availability=slots))
    await engine.draft([("customer", MOVE)], knowledge=kb, now=WEDNESDAY)
    await engine.draft([("customer", MOVE)], knowledge=kb, now=WEDNESDAY)
    assert site.asked == ["2026-03-06"]
    now[0] = 61.0
    await engine.draft([("customer", MOVE)], knowledge=kb, now=WEDNESDAY)
    assert site.asked == ["2026-03-06", "2026-03-06"]


class TestThroughTheBridge:
    """The whole bridge (real SDK clients, emulators): the offer is a draft an agent
    sends, and the customer's pick becomes the appointment card and the webhook."""

    @pytest.fixture
    async def business_site(self) -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
        wishes: list[dict[str, Any]] = []

        async def slots(request: web.Request) -> web.Response:
            return web.json_response({"slots": ["09:00", "10:30"]})

        async def webhook(request: web.Request) -> web.Response:
            wishes.append(await request.json())
            return web.Response(status=204)

        app = web.Application()
        app.router.add_get("/slots", slots)
        app.router.add_post("/appointments", webhook)
        async with on_loopback(app) as base:
            yield base, wishes

    @pytest.fixture
    def business_config(self, business_site: tuple[str, list[dict[str, Any]]]) -> BusinessConfig:
        base, _ = business_site
        return BusinessConfig.model_validate(
            {
                "business": {"name": "Harbor Street Salon", "timezone": "America/Los_Angeles"},
                "ai": {
                    "draft_wait_seconds": 10,
                    "tools": {
                        "appointments": {"webhook_url": f"{base}/appointments"},
                        "availability": {"url": f"{base}/slots"},
                    },
                },
            }
        )

    @pytest.fixture(autouse=True)
    def team(self, slack: SlackEmulator) -> None:
        slack.add_user(AGENT, "ana", "Ana Ruiz")
        slack.join(INBOX, AGENT)

    async def test_the_offer_is_sent_and_the_pick_becomes_the_card_and_webhook(
        self,
        bridge: BridgeUnderTest,
        slack: SlackEmulator,
        twilio: TwilioEmulator,
        business_site: tuple[str, list[dict[str, Any]]],
    ) -> None:
        _, wishes = business_site

        def cards() -> list[SlackMessage]:
            if not parents(slack):
                return []
            return [
                m
                for m in slack.replies(INBOX, parents(slack)[0].ts)
                if any(str(b.get("block_id", "")).startswith("draft_") for b in m.blocks or [])
            ]

        await bridge.text(CUSTOMER, MOVE)
        await eventually(lambda: len(cards()) == 1)
        [offer] = cards()
        shown = json.dumps(offer.blocks)
        assert "10:30" in shown
        assert "draft_reply" in shown
        message_id = next(
            str(b["block_id"]).split(":", 1)[1]
            for b in offer.blocks or []
            if str(b.get("block_id", "")).startswith("draft_")
        )
        click = slack.block_action(
            AGENT, "draft_send", message_id, channel=INBOX, message_ts=offer.ts
        )
        await slack.deliver(f"{bridge.url}/slack/events", click, kind="interactive")
        await eventually(lambda: len(twilio.sent_to(CUSTOMER)) == 1)

        await bridge.text(CUSTOMER, "10:30 please")
        await eventually(lambda: len(cards()) == 2)
        assert "Appointment request" in json.dumps(cards()[1].blocks)
        await eventually(lambda: len(wishes) == 1)
        assert "10:30" in wishes[0]["wish"]
