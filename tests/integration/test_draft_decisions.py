"""What becomes of a draft when clicks race and processes crash: the real store and
outbound pipeline, no Slack. At most one SMS per draft, whatever happens."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bridge.ai.draft_decisions import DraftDecisions, send_key
from bridge.compliance.consent import revocation
from bridge.events import Problem
from bridge.metrics import Metrics
from bridge.models import (
    ASSISTANT,
    ConsentSource,
    DeliveryStatus,
    DraftState,
    InboundSms,
    Message,
    MessageDraft,
    utcnow,
)
from bridge.slack.blocks.wording import draft_note_text, draft_problem_text
from bridge.store.sqlite import SQLiteStore
from bridge.threading.outbound import OutboundPipeline, ReplyRules
from tests.support import bounded

REPLY = "We open at 7."


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    opened = SQLiteStore(tmp_path / "bridge.db")
    await opened.open()
    yield opened
    await bounded(opened.close())


@pytest.fixture
def replies(store: SQLiteStore) -> OutboundPipeline:
    return OutboundPipeline(store, ReplyRules(), lambda: None)


@pytest.fixture
def decisions(store: SQLiteStore, replies: OutboundPipeline) -> DraftDecisions:
    return DraftDecisions(store, replies, Metrics(), lambda: None)


async def drafted(store: SQLiteStore, state: DraftState = DraftState.PROPOSED) -> Message:
    record = await store.record_inbound(
        InboundSms(sid="SM1", business_number="+14155550100", subscriber="+14155550123", body="hi")
    )
    draft = MessageDraft(
        reply=REPLY,
        confidence=0.9,
        escalate=False,
        engine="offline",
        state=state,
        settled_by=ASSISTANT if state is DraftState.AUTO_SENT else None,
    )
    saved = await store.save_draft(record.message.id, draft, intent="support", urgency="normal")
    assert saved is not None
    return saved


async def test_concurrent_clicks_send_one_sms(
    store: SQLiteStore, decisions: DraftDecisions
) -> None:
    message = await drafted(store)

    answers = await asyncio.gather(
        decisions.send(message.id, "U1"),
        decisions.send(message.id, "U2"),
        decisions.send(message.id, "U3", "We open at 7, see you!"),
    )

    sms = await store.get_message(send_key(message.id))
    assert sms is not None
    assert sms.status is DeliveryStatus.QUEUED
    assert answers.count(None) == 1
    assert all("already sent" in draft_problem_text(a) for a in answers if a is not None)
    stored = await store.get_message(message.id)
    assert stored is not None
    assert stored.draft is not None
    assert stored.draft.state in (DraftState.SENT, DraftState.EDITED)


async def test_a_discard_that_wins_stops_a_send_still_queued(
    store: SQLiteStore,
    replies: OutboundPipeline,
    decisions: DraftDecisions,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    message = await drafted(store)
    queue = replies.send_text

    async def queue_then_discard(*args: Any, **kwargs: Any) -> Problem | None:
        """The discard lands between the send's queueing and its marking the draft."""
        problem = await queue(*args, **kwargs)
        assert await decisions.discard(message.id, "U2") is None
        return problem

    monkeypatch.setattr(replies, "send_text", queue_then_discard)

    answer = await decisions.send(message.id, "U1")

    assert answer is not None
    assert draft_problem_text(answer) == "That draft was already discarded by <@U2>."
    sms = await store.get_message(send_key(message.id))
    assert sms is not None
    assert sms.status is DeliveryStatus.CANCELLED


async def test_a_claimed_auto_reply_a_crash_left_unsent_is_sent_once_on_resume(
    store: SQLiteStore, decisions: DraftDecisions
) -> None:
    message = await drafted(store, DraftState.AUTO_SENT)  # claimed, then the crash

    await decisions.resume(message)
    await decisions.resume(message)

    sms = await store.get_message(send_key(message.id))
    assert sms is not None
    assert (sms.body, sms.author) == (REPLY, ASSISTANT)
    assert await store.queue_depth() == {"send_sms": 1, "post_inbound": 1}


async def test_a_refused_auto_reply_goes_back_to_the_agents(
    store: SQLiteStore, decisions: DraftDecisions
) -> None:
    message = await drafted(store, DraftState.AUTO_SENT)
    await store.record_consent(  # the subscriber opted out meanwhile
        revocation(
            "+14155550100",
            "+14155550123",
            source=ConsentSource.KEYWORD,
            at=utcnow(),
            evidence="STOP",
            ref="SM2",
        )
    )

    reopened = await decisions.resume(message)

    assert reopened.draft is not None
    assert reopened.draft.state is DraftState.PROPOSED
    assert reopened.draft.note is not None
    assert "Not sent automatically" in draft_note_text(reopened.draft.note)
    assert await store.get_message(send_key(message.id)) is None
