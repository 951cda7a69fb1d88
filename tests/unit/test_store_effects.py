"""A write and the jobs it causes, named once in `bridge/store/effects.py` and shared by
both engines: each effect and its jobs."""

from __future__ import annotations

import ast
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import bridge
from bridge import jobs
from bridge.events import (
    ConversationOpened,
    DraftReady,
    Event,
    MessageAssessed,
    MessageReceived,
    Publishing,
    SlaBreached,
    load_event,
)
from bridge.models import (
    Conversation,
    DeliveryStatus,
    Direction,
    DraftState,
    JobKind,
    KeywordMark,
    Message,
    MessageDraft,
    MessagePurpose,
    Model,
)
from bridge.notify.registry import Notifiers
from bridge.store import effects

AT = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
CONVERSATION = Conversation(
    id=7,
    business_number="+15005550006",
    subscriber="+15551230001",
    created_at=AT,
    last_activity_at=AT,
)
NOBODY = Publishing()
EVERYTHING = Publishing(frozenset({ConversationOpened, MessageReceived, DraftReady}))


def text(**update: object) -> Message:
    message = Message(
        id="m1", conversation_id=7, direction=Direction.INBOUND, body="hi", created_at=AT
    )
    return message.model_copy(update=update)


def test_an_inbound_text_is_posted_into_its_thread() -> None:
    assert effects.after_inbound(CONVERSATION, text(), opened=True, publishing=NOBODY) == [
        jobs.post_job(text())
    ]


def test_an_inbound_text_publishes_what_notifiers_want() -> None:
    opening = effects.after_inbound(CONVERSATION, text(), opened=True, publishing=EVERYTHING)
    later = effects.after_inbound(CONVERSATION, text(), opened=False, publishing=EVERYTHING)

    assert [j.kind for j in opening] == [JobKind.POST_INBOUND, JobKind.PUBLISH, JobKind.PUBLISH]
    assert [type(load_event(j.note)) for j in opening[1:]] == [ConversationOpened, MessageReceived]
    assert [type(load_event(j.note)) for j in later[1:]] == [MessageReceived]
    received = load_event(later[1].note)
    assert isinstance(received, MessageReceived)
    assert (received.conversation_id, received.message_id) == (7, "m1")
    assert (received.subscriber, received.body) == ("+15551230001", "hi")


def test_a_draft_is_ready_for_people_only_when_it_proposes_a_reply() -> None:
    def drafted(state: DraftState, reply: str | None = "We open at 9") -> Message:
        draft = MessageDraft(
            reply=reply, confidence=0.8, escalate=False, engine="offline", state=state
        )
        return text(draft=draft)

    [ready] = effects.after_draft(drafted(DraftState.PROPOSED), publishing=EVERYTHING)
    event = load_event(ready.note)
    assert isinstance(event, DraftReady)
    assert (event.message_id, event.reply) == ("m1", "We open at 9")
    assert effects.after_draft(drafted(DraftState.PROPOSED), publishing=NOBODY) == []
    for state in (DraftState.AUTO_SENT, DraftState.UNAVAILABLE):
        assert effects.after_draft(drafted(state), publishing=EVERYTHING) == []
    assert effects.after_draft(drafted(DraftState.HANDOFF, None), publishing=EVERYTHING) == []


def test_every_first_draft_tells_the_rules_the_texts_intent_and_urgency() -> None:
    wanting = Publishing(frozenset({MessageAssessed}))
    for state in (DraftState.PROPOSED, DraftState.HANDOFF, DraftState.UNAVAILABLE):
        draft = MessageDraft(reply=None, confidence=0, escalate=True, engine="x", state=state)
        message = text(draft=draft, intent="order", urgency="urgent")
        [job] = effects.after_draft(message, publishing=wanting)
        assessed = load_event(job.note)
        assert isinstance(assessed, MessageAssessed)
        assert (assessed.message_id, assessed.intent, assessed.urgency) == ("m1", "order", "urgent")
        assert job.key == "publish:assessed:m1"
    assert effects.after_draft(message, publishing=NOBODY) == []


def test_a_queued_text_is_sent() -> None:
    reply = text(direction=Direction.OUTBOUND, status=DeliveryStatus.QUEUED)
    marketing = reply.model_copy(update={"purpose": MessagePurpose.MARKETING})
    assert effects.after_queued(reply) == [jobs.send_job(reply)]
    assert [j.kind for j in effects.after_queued(marketing)] == [JobKind.SEND_SMS]


def test_no_engine_makes_jobs_of_its_own() -> None:
    """The engines store the jobs `effects` names; they call no job factory."""
    factories = {
        node.name
        for node in ast.parse(Path(jobs.__file__).read_text()).body
        if isinstance(node, ast.FunctionDef) and ast.unparse(node.returns or "") == "NewJob"
    }
    store = Path(bridge.__file__).parent / "store"
    calling = sorted(
        f"{path.relative_to(store)}: {node.func.id}"
        for engine in ("sqlite", "mongo")
        for path in (store / engine).glob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in factories
    )
    assert calling == []


def test_a_text_arms_the_first_response_check_when_the_sla_is_set() -> None:
    assert effects.first_response_timer(text(), None) is None
    assert effects.first_response_timer(text(keyword=KeywordMark.OPT_OUT), 15) is None
    timer = effects.first_response_timer(text(keyword=KeywordMark.MAYBE_OPT_OUT), 15)
    assert timer is not None
    job, due = timer
    assert (job.kind, job.key, due) == (JobKind.CHECK_SLA, "sla:7", AT + timedelta(minutes=15))


def test_a_breach_is_noted_in_its_thread_and_published_when_wanted() -> None:
    breach = SlaBreached(
        conversation_id=7, message_id="m1", since=AT, deadline=AT, minutes=15, notify=("U1",)
    )
    [note] = effects.after_breach(breach, publishing=NOBODY)
    assert (note.kind, load_event(note.note)) == (JobKind.THREAD_NOTE, breach)
    wanted = Publishing(frozenset({SlaBreached}))
    assert [j.kind for j in effects.after_breach(breach, publishing=wanted)] == [
        JobKind.THREAD_NOTE,
        JobKind.PUBLISH,
    ]


def test_a_breach_with_a_team_to_escalate_to_moves_the_conversation_there_once() -> None:
    breach = SlaBreached(
        conversation_id=7, message_id="m1", since=AT, deadline=AT, minutes=15, route="leads"
    )
    [_, move] = effects.after_breach(breach, publishing=NOBODY)
    assert (move.kind, move.note, move.conversation_id) == (JobKind.MOVE_THREAD, "leads", 7)
    again = effects.after_breach(breach, publishing=NOBODY)[1]
    assert again.key == move.key  # a second write of the same breach moves nothing twice


def test_a_text_the_assistant_assesses_is_not_published_as_received_too() -> None:
    """`message.received` rules are judged once the assistant has read the text: its
    receipt is not published as well (two jobs per text on the webhook's hot path)."""
    later = Publishing(frozenset({MessageReceived}), assessed_later=lambda m: bool(m.body))
    assert effects.after_inbound(CONVERSATION, text(), opened=False, publishing=later) == [
        jobs.post_job(text())
    ]
    picture_only = text(body="")
    published = effects.after_inbound(CONVERSATION, picture_only, opened=False, publishing=later)
    assert [j.kind for j in published] == [JobKind.POST_INBOUND, JobKind.PUBLISH]


class NoStore:
    """The fan-out's store, never reached here."""


def notifier_judging_later(judged_later: Callable[[Message], bool]) -> Any:
    class Rules:
        name = "rules"
        wants: tuple[type[Model], ...] = (MessageReceived, MessageAssessed)

        def __init__(self) -> None:
            self.judged_later = judged_later

        async def notify(self, event: Event, key: str) -> None: ...

    return Rules()


def test_the_rules_say_which_texts_they_judge_on_assessment() -> None:
    rules = notifier_judging_later(lambda message: message.body == "drafted")
    publishing = Notifiers(NoStore(), [rules], on_enqueued=lambda: None).publishing
    assert publishing.assessed_later is not None
    assert publishing.assessed_later(text(body="drafted"))
    assert not publishing.assessed_later(text(body="not drafted"))
