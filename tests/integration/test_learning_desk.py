"""The learning desk over the real store, knowledge folder and offline engine (no
Slack): which answers are offered for teaching, what the dialog proposes, and what an
approval or a rejection does to learned.yml and the drafts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import yaml

from bridge.ai.kb_reload import KnowledgeReloader
from bridge.ai.knowledge import BusinessProfile, KnowledgeSource
from bridge.ai.learning_desk import LearningDesk, LessonProblem, TeachForm
from bridge.ai.offline import OfflineDrafter
from bridge.events import KnowledgeNotReloaded
from bridge.metrics import Metrics
from bridge.models import (
    DraftState,
    InboundSms,
    JobKind,
    Lesson,
    LessonState,
    Message,
    MessageDraft,
    OutboundReply,
    utcnow,
)
from bridge.store.sqlite import SQLiteStore
from tests.support import bounded

FAQ = (
    "- q: Do you take credit cards?\n  a: Yes, all major cards and Apple Pay.\n"
    "- q: Where can I park?\n  a: In the lot behind the shop, free for customers.\n"
)
WORDING = "can i pay w my visa"


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    opened = SQLiteStore(tmp_path / "bridge.db")
    await opened.open()
    yield opened
    await bounded(opened.close())


@pytest.fixture
def kb(tmp_path: Path) -> Path:
    folder = tmp_path / "kb"
    folder.mkdir()
    (folder / "faq.yml").write_text(FAQ, encoding="utf-8")
    return folder


@pytest.fixture
def offline() -> OfflineDrafter:
    return OfflineDrafter()


@pytest.fixture
def source(kb: Path) -> KnowledgeSource:
    return KnowledgeSource(kb, profile=BusinessProfile(name="Harbor Street Bakery"))


@pytest.fixture
async def learning(
    store: SQLiteStore, source: KnowledgeSource, offline: OfflineDrafter
) -> LearningDesk:
    reloader = KnowledgeReloader(source, offline, Metrics())
    await reloader.load()
    return LearningDesk(
        store, offline, source, reloader, admins=["UBOSS"], on_enqueued=lambda: None
    )


async def handed_off(store: SQLiteStore, body: str, sid: str = "SM1") -> Message:
    record = await store.record_inbound(
        InboundSms(sid=sid, business_number="+14155550100", subscriber="+14155550123", body=body)
    )
    draft = MessageDraft(
        reply=None,
        confidence=0.3,
        escalate=True,
        reason="no clear answer",
        engine="offline",
        state=DraftState.HANDOFF,
    )
    saved = await store.save_draft(record.message.id, draft, intent="support", urgency="normal")
    assert saved is not None
    return saved


async def answered(store: SQLiteStore, text: Message, body: str, ts: str = "1.1") -> None:
    reply = OutboundReply(
        conversation_id=text.conversation_id,
        body=body,
        author="U1",
        slack_channel="C1",
        slack_ts=ts,
    )
    await store.record_outbound(reply, send_at=utcnow())


async def offers(store: SQLiteStore) -> int:
    depth = await store.queue_depth()
    return depth.get(JobKind.TELL_AGENT.value, 0)


async def test_only_an_answer_to_a_handed_off_text_is_offered(
    store: SQLiteStore, learning: LearningDesk
) -> None:
    text = await handed_off(store, WORDING)
    conversation = await store.get_conversation(text.conversation_id)
    assert conversation is not None
    await answered(store, text, "Yes, Visa works.")
    await learning.offer(conversation, "U1")
    assert await offers(store) == 1

    later = await store.record_inbound(
        InboundSms(sid="SM2", business_number="+14155550100", subscriber="+14155550123", body="ok")
    )
    assert later.message.draft is None  # the latest text was not handed off
    await learning.offer(conversation, "U1")
    assert await offers(store) == 1


async def test_the_dialog_proposes_the_entry_the_agents_answer_repeats(
    store: SQLiteStore, learning: LearningDesk
) -> None:
    text = await handed_off(store, WORDING)
    await answered(store, text, "Yes, we take all major cards and Apple Pay!")
    form = await learning.form(text.id, "U1")
    assert isinstance(form, TeachForm)
    assert form.question == WORDING
    assert form.answer == "Yes, we take all major cards and Apple Pay!"
    assert form.candidates[0].entry_id == "faq/do-you-take-credit-cards"
    assert form.suggested == "faq/do-you-take-credit-cards"

    other = await handed_off(store, "do you sell gift cards", sid="SM9")
    await answered(store, other, "Not yet, sorry.", ts="1.2")
    form = await learning.form(other.id, "U1")
    assert isinstance(form, TeachForm)
    assert form.suggested is None  # the answer says something no entry says: a new entry


async def test_an_approved_phrasing_answers_that_wording_from_then_on(
    store: SQLiteStore,
    learning: LearningDesk,
    kb: Path,
    offline: OfflineDrafter,
    source: KnowledgeSource,
) -> None:
    text = await handed_off(store, WORDING)
    lesson = await learning.propose(
        text.id, "U1", question=WORDING, answer="", entry_id="faq/do-you-take-credit-cards"
    )
    assert isinstance(lesson, Lesson)
    assert await learning.propose(text.id, "U2", question=WORDING, answer="x", entry_id=None) is (
        LessonProblem.ALREADY_PROPOSED
    )
    assert await learning.decide(lesson.id, "U1", approve=True) is LessonProblem.NOT_ADMIN
    decided = await learning.decide(lesson.id, "UBOSS", approve=True)
    assert isinstance(decided, Lesson)
    assert decided.state is LessonState.APPROVED
    learned = yaml.safe_load((kb / "learned.yml").read_text(encoding="utf-8"))
    assert learned[0]["alt"] == [WORDING]
    draft = offline.draft_sync([("customer", WORDING)], knowledge=source.current)
    assert draft.sources == ["faq/do-you-take-credit-cards"]  # reloaded: no restart
    assert await learning.decide(lesson.id, "UBOSS", approve=False) is LessonProblem.DECIDED


async def test_a_broken_learned_file_is_told_with_its_line_and_the_lesson_waits(
    store: SQLiteStore, learning: LearningDesk, kb: Path
) -> None:
    (kb / "learned.yml").write_text("- q: fine\n  a: fine\n- q: two\n  answr: typo\n")
    text = await handed_off(store, "do you do gift wrap")
    lesson = await learning.propose(
        text.id, "U1", question="gift wrap?", answer="Yes.", entry_id=None
    )
    assert isinstance(lesson, Lesson)
    refused = await learning.decide(lesson.id, "UBOSS", approve=True)
    assert isinstance(refused, KnowledgeNotReloaded)
    assert refused.where.endswith("learned.yml")
    assert refused.line == 4
    assert [item.id for item in await learning.pending(limit=5)] == [lesson.id]
    rejected = await learning.decide(lesson.id, "UBOSS", approve=False)
    assert isinstance(rejected, Lesson)
    assert rejected.state is LessonState.REJECTED
    assert await learning.pending(limit=5) == []
