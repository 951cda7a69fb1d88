"""What agents do with a draft is counted for the entries it cited: sent as proposed,
edited, discarded; a click that loses a race counts nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bridge.ai.draft_decisions import DraftDecisions
from bridge.metrics import Metrics
from bridge.models import DraftState, EntryOutcomes, InboundSms, Message, MessageDraft
from bridge.store.sqlite import SQLiteStore
from bridge.threading.outbound import OutboundPipeline, ReplyRules
from tests.support import bounded


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    opened = SQLiteStore(tmp_path / "bridge.db")
    await opened.open()
    yield opened
    await bounded(opened.close())


@pytest.fixture
def decisions(store: SQLiteStore) -> DraftDecisions:
    return DraftDecisions(
        store, OutboundPipeline(store, ReplyRules(), lambda: None), Metrics(), lambda: None
    )


async def drafted(store: SQLiteStore, sid: str, sources: tuple[str, ...]) -> Message:
    record = await store.record_inbound(
        InboundSms(sid=sid, business_number="+14155550100", subscriber="+14155550123", body="q")
    )
    draft = MessageDraft(
        reply="We open at 7.",
        confidence=0.9,
        escalate=False,
        engine="offline",
        state=DraftState.PROPOSED,
        sources=sources,
    )
    saved = await store.save_draft(record.message.id, draft, intent="support", urgency="normal")
    assert saved is not None
    return saved


async def test_sent_edited_and_discarded_drafts_count_for_their_entries(
    store: SQLiteStore, decisions: DraftDecisions
) -> None:
    hours = await drafted(store, "SM1", ("profile/hours",))
    assert await decisions.send(hours.id, "U1") is None
    edited = await drafted(store, "SM2", ("faq/parking", "profile/hours"))
    assert await decisions.send(edited.id, "U1", "Park behind the shop; we open at 7.") is None
    unchanged = await drafted(store, "SM3", ("faq/parking",))
    assert await decisions.send(unchanged.id, "U1", "We open at 7.") is None  # not an edit
    gone = await drafted(store, "SM4", ("faq/parking",))
    await asyncio.gather(decisions.discard(gone.id, "U1"), decisions.discard(gone.id, "U2"))
    assert await decisions.send(gone.id, "U3") is not None  # too late: counts nothing
    assert await store.draft_outcomes(limit=10) == [
        EntryOutcomes(entry_id="faq/parking", sent=1, edited=1, discarded=1),
        EntryOutcomes(entry_id="profile/hours", sent=1, edited=1),
    ]
