"""The assistant's drafts and the conversation context it reads, on every engine."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bridge.models import DraftState, MessageDraft, MessagePurpose, OutboundReply
from bridge.store.base import Store
from tests.contract.conftest import T0, StoreFactory, sms

DRAFT = MessageDraft(
    reply="We open at 7.",
    confidence=0.91,
    escalate=False,
    sources=("hours",),
    engine="offline",
    state=DraftState.PROPOSED,
)


async def test_save_draft_stores_it_with_intent_and_urgency_once(store: Store) -> None:
    record = await store.record_inbound(sms("SM1", body="when do u open"))
    message_id = record.message.id

    saved = await store.save_draft(message_id, DRAFT, intent="support", urgency="low")

    assert saved is not None
    assert saved.draft == DRAFT
    assert (saved.intent, saved.urgency) == ("support", "low")
    assert await store.get_message(message_id) == saved

    # A retried job drafts again: the first draft stays.
    other = DRAFT.model_copy(update={"reply": "Something else", "engine": "claude:x"})
    again = await store.save_draft(message_id, other, intent="sales", urgency="urgent")
    assert again == saved
    assert await store.save_draft("nope", DRAFT, intent="other", urgency="normal") is None


async def test_settle_draft_happens_once(store: Store) -> None:
    record = await store.record_inbound(sms("SM1", body="when do u open"))
    message_id = record.message.id
    assert await store.settle_draft(message_id, DraftState.SENT, by="U1", at=T0) is None
    await store.save_draft(message_id, DRAFT, intent="support", urgency="normal")

    first, second = await asyncio.gather(
        store.settle_draft(message_id, DraftState.SENT, by="U1", at=T0),
        store.settle_draft(message_id, DraftState.DISCARDED, by="U2", at=T0),
    )

    assert (first is None) != (second is None)
    winner = first or second
    assert winner is not None
    assert winner.draft is not None
    stored = await store.get_message(message_id)
    assert stored is not None
    assert stored.draft == winner.draft
    assert winner.draft.settled_at == T0
    assert (winner.draft.state, winner.draft.settled_by) in {
        (DraftState.SENT, "U1"),
        (DraftState.DISCARDED, "U2"),
    }
    assert winner.draft.reply == DRAFT.reply


async def test_a_handoff_cannot_be_settled(store: Store) -> None:
    record = await store.record_inbound(sms("SM1", body="I want a refund"))
    handoff = DRAFT.model_copy(
        update={"reply": None, "escalate": True, "reason": "refund", "state": DraftState.HANDOFF}
    )
    await store.save_draft(record.message.id, handoff, intent="feedback", urgency="normal")

    assert await store.settle_draft(record.message.id, DraftState.SENT, by="U1", at=T0) is None


async def test_draft_slack_ts_is_kept(store: Store) -> None:
    record = await store.record_inbound(sms("SM1", body="when do u open"))
    await store.set_draft_slack_ts(record.message.id, "1.5")  # no draft yet: nothing
    message = await store.get_message(record.message.id)
    assert message is not None
    assert message.draft is None

    await store.save_draft(record.message.id, DRAFT, intent="support", urgency="normal")
    await store.set_draft_slack_ts(record.message.id, "1.5")

    message = await store.get_message(record.message.id)
    assert message is not None
    assert message.draft is not None
    assert message.draft.slack_ts == "1.5"
    assert message.draft.state is DraftState.PROPOSED


async def test_recent_messages_are_this_conversations_latest_oldest_first(store: Store) -> None:
    for number in range(5):
        await store.record_inbound(
            sms(f"SM{number}", body=f"text {number}", at=T0 + timedelta(seconds=number))
        )
    other = await store.record_inbound(sms("SMX", body="someone else", subscriber="+14155550199"))
    first = await store.get_message_by_sid("SM0")
    assert first is not None
    reply = await store.record_outbound(
        OutboundReply(
            conversation_id=first.conversation_id,
            body="an agent's answer",
            author="U1",
            slack_channel="C1",
            slack_ts="9.9",
        ),
        send_at=T0,
    )
    drafted = await store.record_system_text(
        first.conversation_id, "a drafted reply", MessagePurpose.REPLY, key="draft:x", author="U2"
    )
    assert drafted is not None
    assert drafted.author == "U2"

    recent = await store.recent_messages(first.conversation_id, limit=4)

    assert [m.body for m in recent] == ["text 3", "text 4", reply.message.body, "a drafted reply"]
    assert all(m.conversation_id == first.conversation_id for m in recent)
    assert other.message.id not in {m.id for m in recent}
    assert await store.recent_messages(999, limit=4) == []
    # A draft for text 2 sees nothing that came after it.
    upto = await store.recent_messages(
        first.conversation_id, limit=4, until=T0 + timedelta(seconds=2)
    )
    assert [m.body for m in upto] == ["text 0", "text 1", "text 2"]


async def test_drafts_survive_a_restart(new_store: StoreFactory) -> None:
    store = await new_store()
    record = await store.record_inbound(sms("SM1", body="when do u open"))
    await store.save_draft(record.message.id, DRAFT, intent="support", urgency="normal")
    await store.close()

    message = await (await new_store()).get_message(record.message.id)

    assert message is not None
    assert message.draft == DRAFT
    assert message.intent == "support"


async def test_a_draft_posted_with_its_text_shares_its_ts(store: Store) -> None:
    plain = await store.record_inbound(sms("SM1", body="hi"))
    drafted = await store.record_inbound(sms("SM2", body="when do u open"))
    await store.save_draft(drafted.message.id, DRAFT, intent="support", urgency="normal")

    await store.set_message_slack_ts(plain.message.id, "C1", "1.1", with_draft=True)
    await store.set_message_slack_ts(drafted.message.id, "C1", "1.2", with_draft=True)

    first = await store.get_message(plain.message.id)
    second = await store.get_message(drafted.message.id)
    assert first is not None
    assert (first.slack_ts, first.draft) == ("1.1", None)
    assert second is not None
    assert second.draft is not None
    assert (second.slack_channel, second.slack_ts, second.draft.slack_ts) == ("C1", "1.2", "1.2")
    assert second.draft.reply == DRAFT.reply


async def test_usage_counters_add_up_across_processes(new_store: StoreFactory) -> None:
    one, two = await new_store(), await new_store()

    totals = await asyncio.gather(
        *(store.add_usage("ai_tokens:2026-11-27", 10) for store in (one, two) for _ in range(5))
    )

    assert sorted(totals) == list(range(10, 101, 10))
    assert await one.add_usage("ai_tokens:2026-11-27", 0) == 100
    assert await two.add_usage("ai_tokens:2026-11-28", 0) == 0
