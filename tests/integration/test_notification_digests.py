"""The notification rules and their jobs over a real SQLite store and a local SMTP
server, with the rules' clock fixed: a burst of texts is one digest per person per
period, a job run twice sends once, and each person's preferences decide when (or
whether) an alert reaches them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any, cast

import pytest

from bridge.config import Business
from bridge.events import MessageAssessed, MessageReceived
from bridge.models import (
    DigestPeriod,
    InboundSms,
    Job,
    JobKind,
    NotifyMode,
    NotifyPreferences,
)
from bridge.notification_settings import NotificationsSection
from bridge.notify.deliveries import Deliveries
from bridge.notify.email_via import EmailAlerts
from bridge.notify.recipients import Recipients
from bridge.notify.rules_notifier import NotificationRules
from bridge.notify.teams import RoutedTeams
from bridge.notify.via import Vias
from bridge.routing_settings import RoutingSection
from bridge.sandbox.demo_clock import DemoClock, WeekTime, on_clock
from bridge.sandbox.mail_server import MailServer, plain_body
from bridge.store.sqlite import SQLiteStore
from tests.support import bounded

NOW = datetime(2026, 3, 2, 12, 1, tzinfo=UTC)  # a Monday, 4:01 in Los Angeles
ANA, BEN = "U0ANA", "U0BEN"
BUSINESS = Business(timezone="America/Los_Angeles")


@pytest.fixture
async def mail() -> AsyncIterator[MailServer]:
    server = MailServer()
    await server.start()
    yield server
    await bounded(server.stop())


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    opened = SQLiteStore(tmp_path / "bridge.db")
    await opened.open()
    yield opened
    await bounded(opened.close())


def settings(mail: MailServer, *rules: dict[str, Any]) -> NotificationsSection:
    return NotificationsSection.model_validate(
        {
            "email": {"smtp_url": f"smtp://127.0.0.1:{mail.port}", "from": "b@x.example"},
            "people": {ANA: {"email": "ana@x.example"}, BEN: {"email": "ben@x.example"}},
            "digest_minutes": 30,
            "rules": list(rules),
        }
    )


class Harness:
    def __init__(
        self, store: SQLiteStore, notifications: NotificationsSection, business: Business = BUSINESS
    ) -> None:
        self.store = store
        # Addresses come from `notifications.people`: no Slack is asked.
        people = Recipients(cast(Any, None), cast(Any, None), notifications)
        assert notifications.email is not None
        vias = Vias([EmailAlerts(notifications.email, people, business_name="Bakery")])
        self.rules = NotificationRules(
            store,
            notifications,
            business,
            vias=vias,
            people=people,
            teams=RoutedTeams(RoutingSection()),
            will_draft=lambda message: False,
            on_enqueued=lambda: None,
            clock=lambda: NOW,
        )
        self.deliveries = Deliveries(store, vias)

    async def text(self, number: int, body: str = "Do you have rye?") -> None:
        sms = InboundSms(
            sid=f"SM{number}", business_number="+15005550006", subscriber="+15551230001", body=body
        )
        record = await self.store.record_inbound(sms)
        message = record.message
        received = MessageReceived(
            conversation_id=message.conversation_id,
            message_id=message.id,
            subscriber=sms.subscriber,
            body=body,
        )
        await self.rules.notify(received, key=f"received:{message.id}")

    async def jobs(self, *kinds: JobKind) -> list[Job]:
        """The due jobs of these kinds not claimed before (leased here for a minute)."""
        later = NOW + timedelta(days=7)
        found = await self.store.claim_jobs("test", now=later, limit=5000, lease_seconds=60)
        return [job for job in found if job.kind in kinds]


DIGEST_RULE = {"on": "message.received", "digest_minutes": 30, "notify": [ANA, BEN], "via": "email"}
ALERT_RULE = {"on": "message.received", "notify": [ANA, BEN], "via": "email"}


async def test_a_burst_of_a_thousand_texts_is_one_digest_per_person(
    store: SQLiteStore, mail: MailServer
) -> None:
    harness = Harness(store, settings(mail, DIGEST_RULE))
    for number in range(1000):
        await harness.text(number)
    digests = await harness.jobs(JobKind.DIGEST)
    assert sorted(job.user or "" for job in digests) == [ANA, BEN]
    for job in digests:
        await harness.deliveries.digest(job)
        await harness.deliveries.digest(job)  # a second run (a crash before completing)
    assert sorted(str(m["To"]) for m in mail.mails) == ["ana@x.example", "ben@x.example"]
    for sent in mail.mails:
        assert "Digest: 1000 notifications" in str(sent["Subject"])
        assert plain_body(sent).count("- New text") == 1000


async def test_an_alert_job_run_twice_or_after_a_refusal_sends_once(
    store: SQLiteStore, mail: MailServer
) -> None:
    harness = Harness(store, settings(mail, ALERT_RULE | {"notify": [ANA]}))
    await harness.text(1)
    await harness.rules.notify(  # the same happening told again: nothing more
        MessageReceived(conversation_id=1, message_id="x", subscriber="+1", body="x"),
        key="received:x",
    )
    [job] = await harness.jobs(JobKind.ALERT)
    mail.refuse = 1
    with pytest.raises(Exception, match="451"):
        await harness.deliveries.alert(job)
    await harness.deliveries.alert(job)
    await harness.deliveries.alert(job)
    assert len(mail.mails) == 1


async def test_the_same_run_of_the_rules_twice_adds_nothing(
    store: SQLiteStore, mail: MailServer
) -> None:
    harness = Harness(store, settings(mail, ALERT_RULE))
    await harness.text(1)
    message = await store.get_message_by_sid("SM1")
    assert message is not None
    again = MessageReceived(conversation_id=1, message_id=message.id, subscriber="+1", body="x")
    await harness.rules.notify(again, key=f"received:{message.id}")  # the NOTIFY job again
    assert len(await harness.jobs(JobKind.ALERT)) == 2  # Ana's and Ben's, once each


async def test_urgent_only_mute_and_quiet_hours(store: SQLiteStore, mail: MailServer) -> None:
    harness = Harness(store, settings(mail, ALERT_RULE))
    await store.set_notify_preferences(ANA, NotifyPreferences(mode=NotifyMode.URGENT_ONLY))
    await store.set_notify_preferences(BEN, NotifyPreferences(mode=NotifyMode.MUTE))
    await harness.text(1)  # a general text: Ana gets it in her digest, Ben nothing
    [digest] = await harness.jobs(JobKind.DIGEST, JobKind.ALERT)  # no alert: a digest
    assert digest.user == ANA
    assert digest.key.endswith("12:30:00+00:00")  # the end of her 30-minute period

    # Quiet 22:00–07:00 in Los Angeles (it is 4:01 there): an urgent alert waits until 7:00.
    quiet = NotifyPreferences(quiet_from=time(22, 0), quiet_until=time(7, 0))
    await store.set_notify_preferences(ANA, quiet)
    message = (
        await store.record_inbound(
            InboundSms(
                sid="SM2", business_number="+15005550006", subscriber="+15551230001", body="help!"
            )
        )
    ).message
    assessed = MessageAssessed(
        conversation_id=message.conversation_id,
        message_id=message.id,
        intent="order",
        urgency="urgent",
    )
    await harness.rules.notify(assessed, key="assessed:2")
    [waiting] = [j for j in await harness.jobs(JobKind.DIGEST) if "15:00" in j.key]
    assert waiting.user == ANA  # 7:00 in Los Angeles is 15:00 UTC


AT_OPENING = {
    "on": "message.received",
    "when": {"hours": "closed"},
    "digest": "at_opening",
    "notify": [ANA],
    "via": "email",
}


@pytest.mark.parametrize(("at", "waits"), [("fri 20:00", timedelta(hours=59)), ("tue 10:30", None)])
async def test_a_text_while_closed_waits_for_the_opening(
    store: SQLiteStore, mail: MailServer, at: str, waits: timedelta | None
) -> None:
    hours = Business(timezone="America/Los_Angeles", hours={"mon-fri": "07:00-18:00"})
    clock = DemoClock()
    clock.move_to(WeekTime.parse(at), hours)  # the business's clock: Friday evening, or open
    harness = Harness(store, settings(mail, AT_OPENING), on_clock(hours, clock))
    await harness.text(1)
    jobs = await harness.jobs(JobKind.DIGEST, JobKind.ALERT)
    if waits is None:
        assert jobs == []  # open: the rule is for texts that come while closed
        return
    [digest] = jobs
    assert digest.note is not None
    due = DigestPeriod.model_validate_json(digest.note).due
    # Monday 7:00 is 59 hours after Friday 20:00 (less the moments this test took).
    assert waits - timedelta(minutes=1) < due - NOW <= waits
