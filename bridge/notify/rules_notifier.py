"""The notification rules (`notifications.rules`) as a notifier: for each happening they
name, who hears of it, by which vias, now or in a digest, after each person's
preferences. Its decision is one write (`NotificationStore.dispatch`): the alert jobs,
the digest items and their digest jobs, under the NOTIFY job's key, so a crash or a
retry never loses or doubles one.

A text is judged once its intent and urgency are known: when its draft comes
(`message.assessed`), or at once when no draft will come (keywords aside: STOP is no
inbox message)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol, get_args

import structlog

from bridge.config import Business
from bridge.events import Event, FeedbackLow, MessageAssessed, MessageReceived
from bridge.jobs import alert_job, digest_job
from bridge.models import (
    Conversation,
    Delivery,
    DigestItem,
    DigestPeriod,
    Message,
    Model,
    NewJob,
    NotifyMode,
    NotifyPreferences,
    utcnow,
)
from bridge.notification_settings import (
    NotificationRule,
    NotificationsSection,
)
from bridge.notify.alert_words import alert_of
from bridge.notify.recipients import Recipients
from bridge.notify.rules import Happening, RuleBook
from bridge.notify.teams import RoutedTeams
from bridge.notify.timing import personal_due, rule_due
from bridge.notify.via import Vias
from bridge.section import is_group, is_user
from bridge.store.base import (
    AwayStore,
    ContactStore,
    ConversationStore,
    MessageStore,
    NotificationStore,
    PreferenceStore,
)
from bridge.threading.opening_hours import Opening, opening

log = structlog.get_logger(__name__)

RECEIVED = "message.received"


class _Store(
    ConversationStore,
    MessageStore,
    ContactStore,
    AwayStore,
    NotificationStore,
    PreferenceStore,
    Protocol,
):
    """The store roles this module uses."""


def _event_types() -> dict[str, type[Model]]:
    """Every domain event by its name (`sla.breached` once the SLA timer adds it)."""
    (union, *_) = get_args(Event)
    return {kind.model_fields["type"].default: kind for kind in get_args(union)}


Plan = dict[tuple[str, tuple[str, ...]], datetime | None]


class NotificationRules:
    name = "rules"

    def __init__(
        self,
        store: _Store,
        settings: NotificationsSection,
        business: Business,
        *,
        vias: Vias,
        people: Recipients,
        teams: RoutedTeams,
        will_draft: Callable[[Message], bool],
        on_enqueued: Callable[[], None],
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._store = store
        self._settings = settings
        self._business = business
        self._vias = vias
        self._people = people
        self._teams = teams
        self._will_draft = will_draft
        # A text the assistant drafts is judged on its assessment, not on its receipt.
        self.judged_later = will_draft
        self._on_enqueued = on_enqueued
        self._clock = clock
        self._book = RuleBook(settings.rules)
        types = _event_types()
        wanted = [types[name] for name in self._book.events if name in types]
        if RECEIVED in self._book.events:
            wanted.append(MessageAssessed)
        self.wants: tuple[type[Model], ...] = tuple(wanted)

    async def notify(self, event: Event, key: str) -> None:
        name = RECEIVED if isinstance(event, MessageAssessed) else event.type
        conversation_id = getattr(event, "conversation_id", None)
        if not isinstance(conversation_id, int):
            return
        message_id = getattr(event, "message_id", None)
        message = await self._store.get_message(message_id) if message_id else None
        if isinstance(event, MessageReceived) and (
            message is None
            or (message.keyword is not None and message.keyword.replaces_post)
            or self._will_draft(message)
        ):
            return  # a keyword; or judged when its draft comes
        conversation = await self._store.get_conversation(conversation_id)
        if conversation is None:
            return
        now = self._clock()
        # Open or closed when the text came (a text at 17:59 came in opening hours).
        happened = message.created_at if message is not None else now
        away = await self._store.away()
        hours = opening(self._business, conversation.business_number, happened, away)
        assessed = event if isinstance(event, MessageAssessed) else message
        urgency = assessed.urgency if assessed else None
        if isinstance(event, FeedbackLow):
            urgency = "urgent"  # an unhappy customer, whatever their words
        happening = Happening(
            event=name,
            urgency=urgency,
            intent=assessed.intent if assessed else None,
            team=self._teams.team_of(conversation),
            open=hours.open,
        )
        rules = self._book.matching(happening)
        if not rules:
            return
        urgent = happening.urgency == "urgent"
        plan = await self._plan(rules, conversation, now, hours, urgent=urgent)
        if not plan:
            return
        contact = await self._store.get_contact(conversation.subscriber)
        assignee = getattr(event, "assignee", None)
        names: dict[str, str] = {}
        if isinstance(assignee, str) and (known := await self._people.name(assignee)):
            names[assignee] = known
        alert = alert_of(
            name,
            event,
            conversation,
            contact=contact.name if contact else None,
            message=message,
            urgent=urgent,
            names=names,
            at=now,
        )
        jobs: list[tuple[NewJob, datetime]] = []
        items: list[DigestItem] = []
        for (via, to), due in plan.items():
            part = f"{key}:{via}:{','.join(to)}"
            if due is None:
                jobs.append((alert_job(Delivery(via=via, to=to, alert=alert), key=part), now))
                continue
            period = DigestPeriod(via=via, to=",".join(to), due=due)
            items.append(DigestItem(id=part, period=period, alert=alert))
            jobs.append((digest_job(period), due))
        if await self._store.dispatch(f"rules:{key}", jobs, items):
            self._on_enqueued()

    async def _plan(
        self,
        rules: list[NotificationRule],
        conversation: Conversation,
        now: datetime,
        hours: Opening,
        *,
        urgent: bool,
    ) -> Plan:
        """(via, to) → when (None: now); the earliest wins when rules overlap."""
        plan: Plan = {}
        preferences: dict[str, NotifyPreferences] = {}

        async def of(user: str) -> NotifyPreferences:
            if user not in preferences:
                preferences[user] = await self._store.notify_preferences(user)
            return preferences[user]

        def add(via: str, to: tuple[str, ...], due: datetime | None) -> None:
            if (via, to) not in plan:
                plan[via, to] = due
                return
            known = plan[via, to]
            if known is not None and (due is None or due < known):
                plan[via, to] = due

        for rule in rules:
            targets = self._targets(rule, conversation)
            due = rule_due(rule, now, hours)
            for name in rule.via:
                via = self._vias.get(name)
                if via is None:
                    log.warning("notify.no_via", via=name)  # configured, not built here
                    continue
                if not via.personal:
                    muted = [
                        t for t in targets if is_user(t) and (await of(t)).mode is NotifyMode.MUTE
                    ]
                    add(name, tuple(t for t in targets if t not in muted), due)
                    continue
                for user in await self._people.users(targets):
                    mine = await of(user)
                    if mine.mode is NotifyMode.MUTE:
                        continue
                    when = personal_due(
                        due,
                        mine,
                        urgent=urgent,
                        now=now,
                        digest_minutes=self._settings.digest_minutes,
                        business=self._business,
                    )
                    add(name, (user,), when)
        return plan

    def _targets(self, rule: NotificationRule, conversation: Conversation) -> tuple[str, ...]:
        found: dict[str, None] = {}
        for target in rule.notify:
            people: tuple[str | None, ...]
            if target == "assignee":
                people = (conversation.assignee,)
            elif target == "team":
                people = self._teams.members(conversation)
            elif target == "on_call":
                people = (self._settings.on_call,)
            else:
                people = (target,)
            found.update(dict.fromkeys(p for p in people if p))
        # Slack ids only: the assistant, an assignee too, is no one to tell.
        return tuple(t for t in found if is_user(t) or is_group(t))
