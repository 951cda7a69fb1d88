"""Lessons for the assistant (proposed by agents, decided by admins) and the tally of
what agents did with each entry's drafts: the same on every engine."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bridge.models import DraftOutcome, EntryOutcomes, Lesson, LessonState
from bridge.store.base import Store
from tests.contract.conftest import T0, StoreFactory


def lesson(text_id: str, *, minutes: int = 0, entry: str | None = "faq/hours") -> Lesson:
    return Lesson(
        id=text_id,
        conversation_id=1,
        question="when do u close on weekdays",
        answer=None if entry else "We close at 6pm on weekdays.",
        entry_id=entry,
        entry_title="Opening hours" if entry else None,
        proposed_by="U1",
        proposed_at=T0 + timedelta(minutes=minutes),
    )


async def test_a_proposal_round_trips_and_waits_for_an_admin(store: Store) -> None:
    proposed = lesson("m1")
    assert await store.propose_lesson(proposed) == proposed
    assert await store.get_lesson("m1") == proposed
    assert await store.get_lesson("m2") is None
    assert await store.pending_lessons(limit=10) == [proposed]


async def test_a_text_has_one_proposal_the_first_stays(store: Store) -> None:
    first = lesson("m1")
    results = await asyncio.gather(
        store.propose_lesson(first), store.propose_lesson(lesson("m1", entry=None))
    )
    assert sum(r is not None for r in results) == 1
    assert await store.propose_lesson(lesson("m1", entry=None)) is None
    stored = await store.get_lesson("m1")
    assert stored is not None
    assert stored in results


async def test_pending_proposals_come_oldest_first_within_the_limit(store: Store) -> None:
    for name, minutes in (("m3", 3), ("m1", 1), ("m2", 2)):
        await store.propose_lesson(lesson(name, minutes=minutes))
    assert [item.id for item in await store.pending_lessons(limit=2)] == ["m1", "m2"]


async def test_a_proposal_is_decided_once(store: Store, new_store: StoreFactory) -> None:
    await store.propose_lesson(lesson("m1"))
    await store.propose_lesson(lesson("m2", minutes=1))
    at = T0 + timedelta(hours=1)
    decided = await store.decide_lesson("m1", LessonState.APPROVED, by="UADMIN", at=at)
    assert decided is not None
    assert (decided.state, decided.decided_by, decided.decided_at) == (
        LessonState.APPROVED,
        "UADMIN",
        at,
    )
    assert await store.decide_lesson("m1", LessonState.REJECTED, by="U2", at=at) is None
    assert await store.decide_lesson("nope", LessonState.REJECTED, by="U2", at=at) is None
    other = await new_store()
    assert [item.id for item in await other.pending_lessons(limit=10)] == ["m2"]
    assert await other.get_lesson("m1") == decided


async def test_agents_corrections_are_counted_per_entry(store: Store) -> None:
    assert await store.draft_outcomes(limit=10) == []
    await store.count_draft_outcome(["faq/hours"], DraftOutcome.SENT)
    await asyncio.gather(
        *(store.count_draft_outcome(["faq/returns"], DraftOutcome.DISCARDED) for _ in range(3))
    )
    await store.count_draft_outcome(["faq/hours", "faq/parking"], DraftOutcome.EDITED)
    await store.count_draft_outcome(["faq/returns"], DraftOutcome.SENT)
    assert await store.draft_outcomes(limit=10) == [
        EntryOutcomes(entry_id="faq/returns", sent=1, discarded=3),
        EntryOutcomes(entry_id="faq/hours", sent=1, edited=1),
        EntryOutcomes(entry_id="faq/parking", edited=1),
    ]
    assert [e.entry_id for e in await store.draft_outcomes(limit=1)] == ["faq/returns"]
