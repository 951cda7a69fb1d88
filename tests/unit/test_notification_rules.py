"""Which rules hold for a happening, and when each person hears of it."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from bridge.config import Business
from bridge.models import NotifyMode, NotifyPreferences
from bridge.notification_settings import NotificationRule
from bridge.notify.rules import Happening, RuleBook
from bridge.notify.timing import period_end, personal_due, rule_due
from bridge.threading.opening_hours import Opening

NOW = datetime(2026, 3, 2, 12, 1, tzinfo=UTC)  # Monday 4:01 in Los Angeles
LA = Business(timezone="America/Los_Angeles")


def rule(**fields: Any) -> NotificationRule:
    return NotificationRule.model_validate(
        {"on": "message.received", "notify": "assignee", "via": "slack_dm"} | fields
    )


def test_a_rule_holds_when_every_filter_does() -> None:
    urgent = rule(when={"urgency": "urgent"})
    sales_open = rule(when={"intent": ["sales", "order"], "hours": "open"})
    support_team = rule(when={"team": "support"})
    assigned = rule(on="conversation.assigned")
    book = RuleBook([urgent, sales_open, support_team, assigned])
    assert book.matching(Happening("message.received", urgency="urgent", open=False)) == [urgent]
    assert book.matching(Happening("message.received", intent="order", open=True)) == [sales_open]
    assert book.matching(Happening("message.received", intent="order", open=False)) == []
    assert book.matching(Happening("message.received", team="support")) == [support_team]
    assert book.matching(Happening("conversation.assigned", urgency="urgent")) == [assigned]
    assert book.matching(Happening("delivery.failed")) == []


def test_digest_periods_are_fixed_slices_of_time() -> None:
    assert period_end(NOW, 30) == datetime(2026, 3, 2, 12, 30, tzinfo=UTC)
    assert period_end(NOW + timedelta(minutes=28), 30) == period_end(NOW, 30)
    assert period_end(datetime(2026, 3, 2, 12, 30, tzinfo=UTC), 30).minute == 0


def test_at_opening_waits_for_the_next_opening_only_while_closed() -> None:
    at_opening = rule(digest="at_opening")
    local = NOW  # the business's clock: here the same as the bridge's
    closed = Opening(local, open=False, next_open=local + timedelta(hours=3))
    assert rule_due(at_opening, NOW, closed) == NOW + timedelta(hours=3)
    assert rule_due(at_opening, NOW, Opening(local, open=True)) is None
    assert rule_due(at_opening, NOW, Opening(local, open=False)) is None  # no hours known
    assert rule_due(rule(), NOW, closed) is None


def test_preferences_only_ever_make_it_later() -> None:
    def due(preferences: NotifyPreferences, *, urgent: bool = False) -> datetime | None:
        return personal_due(
            None, preferences, urgent=urgent, now=NOW, digest_minutes=60, business=LA
        )

    hour = datetime(2026, 3, 2, 13, 0, tzinfo=UTC)
    assert due(NotifyPreferences()) is None
    assert due(NotifyPreferences(mode=NotifyMode.DIGEST_ONLY), urgent=True) == hour
    assert due(NotifyPreferences(mode=NotifyMode.URGENT_ONLY)) == hour
    assert due(NotifyPreferences(mode=NotifyMode.URGENT_ONLY), urgent=True) is None
    overnight = NotifyPreferences(quiet_from=time(22, 0), quiet_until=time(7, 0))
    assert due(overnight, urgent=True) == datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # 7:00 LA
    daytime = NotifyPreferences(quiet_from=time(12, 0), quiet_until=time(13, 0))
    assert due(daytime) is None  # 4:01 is not inside 12:00–13:00
