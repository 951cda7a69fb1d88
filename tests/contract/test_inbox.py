"""The team inbox: conversations opened without a text, their state patched, the
inbox filters, canned responses and App Home viewers, on every engine."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone

import pytest

from bridge.models import (
    Conversation,
    ConversationPatch,
    ConversationStatus,
    InboxFilter,
    utcnow,
)
from bridge.store.base import Store
from tests.contract.conftest import BUSINESS, SUBSCRIBER, T0, StoreFactory, sms

OTHER = "+15551230002"
RESOLVED = ConversationStatus.RESOLVED


def minutes(n: int) -> datetime:
    return T0 + timedelta(minutes=n)


async def conversation_at(store: Store, n: int, *, subscriber: str | None = None) -> Conversation:
    """A conversation whose last activity is T0 + n minutes."""
    record = await store.record_inbound(
        sms(f"SM{n}", at=minutes(n), subscriber=subscriber or f"+1555000{n:04d}")
    )
    return record.conversation


async def patch(store: Store, conversation: Conversation, **fields: object) -> Conversation:
    updated = await store.update_conversation(
        conversation.id, ConversationPatch.model_validate(fields)
    )
    assert updated is not None
    return updated


# --- open_conversation ---------------------------------------------------------------


async def test_open_conversation_opens_an_empty_conversation(store: Store) -> None:
    before = utcnow()
    conversation = await store.open_conversation(BUSINESS, SUBSCRIBER)
    after = utcnow()

    assert conversation.business_number == BUSINESS
    assert conversation.subscriber == SUBSCRIBER
    assert conversation.status is ConversationStatus.OPEN
    assert conversation.assignee is None
    assert conversation.flagged is False
    assert conversation.flag_reason is None
    assert conversation.seen_at is None
    assert conversation.unread is True
    assert conversation.slack_channel is None
    assert conversation.slack_thread_ts is None
    assert conversation.header_activity_at is None
    # Engines may keep only milliseconds.
    assert before - timedelta(milliseconds=1) <= conversation.created_at <= after
    assert conversation.last_activity_at == conversation.created_at
    assert await store.get_conversation(conversation.id) == conversation
    assert await store.find_conversation(BUSINESS, SUBSCRIBER) == conversation
    assert await store.queue_depth() == {}  # no message, nothing to post


async def test_open_conversation_is_idempotent(store: Store) -> None:
    first = await store.open_conversation(BUSINESS, SUBSCRIBER)
    again = await store.open_conversation(BUSINESS, SUBSCRIBER)

    assert again == first
    assert await store.list_conversations(InboxFilter.ALL) == [first]


async def test_open_conversation_finds_the_conversation_of_an_inbound_text(store: Store) -> None:
    record = await store.record_inbound(sms("SM1"))
    updated = await patch(store, record.conversation, assignee="U1")

    opened = await store.open_conversation(BUSINESS, SUBSCRIBER)

    # Found as it is, its activity untouched.
    assert opened == updated
    assert opened.last_activity_at == T0
    assert await store.queue_depth() == {"post_inbound": 1}


async def test_an_inbound_text_joins_an_opened_conversation(store: Store) -> None:
    opened = await store.open_conversation(BUSINESS, SUBSCRIBER)
    later = opened.last_activity_at + timedelta(minutes=1)

    record = await store.record_inbound(sms("SM1", at=later))

    assert record.created is True
    assert record.conversation.id == opened.id
    assert record.message.conversation_id == opened.id
    assert record.conversation.created_at == opened.created_at
    assert record.conversation.last_activity_at == later
    assert await store.list_conversations(InboxFilter.ALL) == [record.conversation]


async def test_opened_conversations_are_numbered_with_inbound_ones(store: Store) -> None:
    a = (await store.record_inbound(sms("SM1"))).conversation
    b = await store.open_conversation(BUSINESS, OTHER)
    c = (await store.record_inbound(sms("SM2", business="+15005550007"))).conversation
    d = await store.open_conversation("+15005550007", OTHER)

    assert a.id < b.id < c.id < d.id
    assert len({a.id, b.id, c.id, d.id}) == 4


async def test_concurrent_open_and_inbound_share_one_conversation(
    new_store: StoreFactory,
) -> None:
    one, two = await new_store(), await new_store()
    results = await asyncio.gather(
        one.open_conversation(BUSINESS, SUBSCRIBER),
        two.record_inbound(sms("SM1", at=utcnow())),
        two.open_conversation(BUSINESS, SUBSCRIBER),
        one.record_inbound(sms("SM2", at=utcnow())),
    )
    ids = {
        result.id if isinstance(result, Conversation) else result.conversation.id
        for result in results
    }
    assert len(ids) == 1
    assert [c.id for c in await one.list_conversations(InboxFilter.ALL)] == list(ids)


# --- update_conversation -------------------------------------------------------------


async def test_update_applies_only_the_fields_given(store: Store) -> None:
    conversation = await conversation_at(store, 1)

    assigned = await patch(store, conversation, assignee="U1")
    assert assigned == conversation.model_copy(update={"assignee": "U1"})
    assert await store.get_conversation(conversation.id) == assigned

    flagged = await patch(store, conversation, flagged=True, flag_reason="angry")
    assert flagged == assigned.model_copy(update={"flagged": True, "flag_reason": "angry"})

    resolved = await patch(store, conversation, status=RESOLVED)
    assert resolved == flagged.model_copy(update={"status": RESOLVED})
    assert resolved.assignee == "U1"  # left out: kept
    assert await store.get_conversation(conversation.id) == resolved


async def test_update_with_none_clears_the_field(store: Store) -> None:
    conversation = await conversation_at(store, 1)
    await patch(store, conversation, assignee="U1", flagged=True, flag_reason="angry")

    unassigned = await patch(store, conversation, assignee=None)
    assert unassigned.assignee is None
    assert unassigned.flagged is True
    assert unassigned.flag_reason == "angry"

    unflagged = await patch(store, conversation, flagged=False, flag_reason=None)
    assert unflagged == conversation
    assert await store.get_conversation(conversation.id) == conversation


async def test_update_reopens(store: Store) -> None:
    conversation = await conversation_at(store, 1)
    await patch(store, conversation, status=RESOLVED)

    reopened = await patch(store, conversation, status=ConversationStatus.OPEN)

    assert reopened == conversation


async def test_an_empty_patch_changes_nothing(store: Store) -> None:
    conversation = await conversation_at(store, 1)

    assert await store.update_conversation(conversation.id, ConversationPatch()) == conversation


async def test_update_of_an_unknown_conversation_is_none(store: Store) -> None:
    assert await store.update_conversation(404, ConversationPatch(assignee="U1")) is None
    assert await store.update_conversation(404, ConversationPatch()) is None
    assert await store.get_conversation(404) is None


async def test_seen_at_and_unread(store: Store) -> None:
    conversation = await conversation_at(store, 1)
    assert conversation.unread is True

    seen_at = minutes(2).astimezone(timezone(timedelta(hours=-5)))
    seen = await patch(store, conversation, seen_at=seen_at)
    assert seen.seen_at == minutes(2)
    assert seen.seen_at.tzinfo is not None
    assert seen.seen_at.utcoffset() == timedelta(0)
    assert seen.unread is False
    assert seen.last_activity_at == minutes(1)  # seeing is not activity

    # A later text makes it unread again.
    record = await store.record_inbound(sms("SM3", at=minutes(3), subscriber=seen.subscriber))
    assert record.conversation.seen_at == minutes(2)
    assert record.conversation.unread is True

    unseen = await patch(store, conversation, seen_at=None)
    assert unseen.seen_at is None
    assert unseen.unread is True


async def test_update_keeps_activity_and_thread(store: Store) -> None:
    conversation = await conversation_at(store, 1)
    assert await store.set_thread(conversation.id, "C1", "1.0", replacing=None)

    updated = await patch(store, conversation, assignee="U1", seen_at=minutes(1))

    assert updated.slack_channel == "C1"
    assert updated.slack_thread_ts == "1.0"
    assert updated.last_activity_at == minutes(1)
    assert updated.created_at == conversation.created_at


# --- list_conversations --------------------------------------------------------------


async def inboxes(store: Store) -> dict[str, int]:
    """Six conversations in every state; their ids by name. Activity order (most
    recent first): resolved_mine, open_mine, open_unassigned_flagged,
    open_theirs_flagged, resolved_flagged, open_unassigned."""
    ids: dict[str, int] = {}
    ids["open_unassigned"] = (await conversation_at(store, 1)).id
    c = await conversation_at(store, 5)
    ids["open_mine"] = (await patch(store, c, assignee="U1")).id
    c = await conversation_at(store, 3)
    ids["open_theirs_flagged"] = (await patch(store, c, assignee="U2", flagged=True)).id
    c = await conversation_at(store, 6)
    ids["resolved_mine"] = (await patch(store, c, assignee="U1", status=RESOLVED)).id
    c = await conversation_at(store, 2)
    ids["resolved_flagged"] = (
        await patch(store, c, flagged=True, flag_reason="rude", status=RESOLVED)
    ).id
    c = await conversation_at(store, 4)
    ids["open_unassigned_flagged"] = (await patch(store, c, flagged=True)).id
    return ids


async def listed(
    store: Store, inbox: InboxFilter, *, user: str | None = None, limit: int = 50
) -> list[int]:
    conversations = await store.list_conversations(inbox, user=user, limit=limit)
    for conversation in conversations:  # whole conversations, as stored
        assert await store.get_conversation(conversation.id) == conversation
    return [c.id for c in conversations]


@pytest.mark.parametrize(
    ("inbox", "user", "expected"),
    [
        (
            InboxFilter.ALL,
            None,
            [
                "resolved_mine",
                "open_mine",
                "open_unassigned_flagged",
                "open_theirs_flagged",
                "resolved_flagged",
                "open_unassigned",
            ],
        ),
        (
            InboxFilter.OPEN,
            None,
            ["open_mine", "open_unassigned_flagged", "open_theirs_flagged", "open_unassigned"],
        ),
        (InboxFilter.MINE, "U1", ["open_mine"]),
        (InboxFilter.MINE, "U2", ["open_theirs_flagged"]),
        (InboxFilter.MINE, "U3", []),
        (InboxFilter.MINE, None, []),  # no user: nobody's, not the unassigned ones
        (InboxFilter.UNASSIGNED, None, ["open_unassigned_flagged", "open_unassigned"]),
        (InboxFilter.FLAGGED, None, ["open_unassigned_flagged", "open_theirs_flagged"]),
    ],
)
async def test_inbox_filters_most_recent_first(
    store: Store, inbox: InboxFilter, user: str | None, expected: list[str]
) -> None:
    ids = await inboxes(store)
    assert await listed(store, inbox, user=user) == [ids[name] for name in expected]


async def test_other_filters_ignore_the_user(store: Store) -> None:
    ids = await inboxes(store)
    assert await listed(store, InboxFilter.UNASSIGNED, user="U1") == [
        ids["open_unassigned_flagged"],
        ids["open_unassigned"],
    ]


async def test_new_activity_moves_a_conversation_to_the_top(store: Store) -> None:
    ids = await inboxes(store)
    oldest = await store.get_conversation(ids["open_unassigned"])
    assert oldest is not None

    await store.record_inbound(sms("SM10", at=minutes(10), subscriber=oldest.subscriber))

    assert (await listed(store, InboxFilter.ALL))[0] == ids["open_unassigned"]
    assert await listed(store, InboxFilter.UNASSIGNED) == [
        ids["open_unassigned"],
        ids["open_unassigned_flagged"],
    ]


async def test_patches_move_conversations_between_inboxes(store: Store) -> None:
    ids = await inboxes(store)
    mine = await store.get_conversation(ids["open_mine"])
    assert mine is not None

    await patch(store, mine, assignee=None)
    assert await listed(store, InboxFilter.MINE, user="U1") == []
    assert await listed(store, InboxFilter.UNASSIGNED) == [
        ids["open_mine"],
        ids["open_unassigned_flagged"],
        ids["open_unassigned"],
    ]

    await patch(store, mine, flagged=True, status=RESOLVED)
    assert ids["open_mine"] not in await listed(store, InboxFilter.OPEN)
    assert ids["open_mine"] not in await listed(store, InboxFilter.UNASSIGNED)
    assert ids["open_mine"] not in await listed(store, InboxFilter.FLAGGED)
    assert ids["open_mine"] in await listed(store, InboxFilter.ALL)


async def test_limit(store: Store) -> None:
    ids = await inboxes(store)

    assert await listed(store, InboxFilter.ALL, limit=2) == [ids["resolved_mine"], ids["open_mine"]]
    assert await listed(store, InboxFilter.OPEN, limit=1) == [ids["open_mine"]]
    assert await listed(store, InboxFilter.FLAGGED, limit=5) == [
        ids["open_unassigned_flagged"],
        ids["open_theirs_flagged"],
    ]
    assert await listed(store, InboxFilter.ALL, limit=0) == []


async def test_default_limit_is_fifty(store: Store) -> None:
    for n in range(52):
        await conversation_at(store, n)

    listed_ids = await listed(store, InboxFilter.ALL)

    assert len(listed_ids) == 50
    newest = await store.find_conversation(BUSINESS, "+15550000051")
    assert newest is not None
    assert listed_ids[0] == newest.id


async def test_an_empty_inbox(store: Store) -> None:
    for inbox in InboxFilter:
        assert await store.list_conversations(inbox, user="U1") == []


async def test_opened_conversations_are_listed(store: Store) -> None:
    opened = await store.open_conversation(BUSINESS, SUBSCRIBER)
    older = await conversation_at(store, 1)  # T0 is long before now

    assert await listed(store, InboxFilter.OPEN) == [opened.id, older.id]
    assert await listed(store, InboxFilter.UNASSIGNED) == [opened.id, older.id]


# --- canned responses ----------------------------------------------------------------


async def test_canned_responses_crud(store: Store) -> None:
    assert await store.list_canned() == {}

    await store.put_canned("hours", "We are open 9-5.")
    await store.put_canned("address", "1 Main St.")
    canned = await store.list_canned()
    assert canned == {"address": "1 Main St.", "hours": "We are open 9-5."}
    assert list(canned) == ["address", "hours"]

    await store.put_canned("hours", "We are open 8-6.")  # an upsert
    assert await store.list_canned() == {"address": "1 Main St.", "hours": "We are open 8-6."}

    assert await store.delete_canned("address") is True
    assert await store.delete_canned("address") is False
    assert await store.delete_canned("never") is False
    assert await store.list_canned() == {"hours": "We are open 8-6."}


async def test_canned_responses_are_sorted_by_name(store: Store) -> None:
    names = ["zeta", "alpha", "Beta", "mid.dle", "$dollar", "émile", "a b", "a"]
    for name in names:
        await store.put_canned(name, f"text of {name}")

    canned = await store.list_canned()

    assert list(canned) == sorted(names)  # by code point, as both engines compare
    assert canned == {name: f"text of {name}" for name in names}


async def test_canned_responses_are_shared_between_processes(new_store: StoreFactory) -> None:
    one, two = await new_store(), await new_store()
    await one.put_canned("hours", "9-5")
    await asyncio.gather(two.put_canned("hours", "8-6"), one.put_canned("thanks", "Thanks!"))

    assert (
        await one.list_canned() == await two.list_canned() == {"hours": "8-6", "thanks": "Thanks!"}
    )


# --- App Home viewers ----------------------------------------------------------------


async def test_home_viewers_upsert(store: Store) -> None:
    assert await store.home_viewers() == {}

    await store.set_home_filter("U1", InboxFilter.MINE)
    await store.set_home_filter("U2", InboxFilter.ALL)
    assert await store.home_viewers() == {"U1": InboxFilter.MINE, "U2": InboxFilter.ALL}

    await store.set_home_filter("U1", InboxFilter.FLAGGED)
    viewers = await store.home_viewers()
    assert viewers == {"U1": InboxFilter.FLAGGED, "U2": InboxFilter.ALL}
    assert all(type(f) is InboxFilter for f in viewers.values())


@pytest.mark.parametrize("inbox", list(InboxFilter))
async def test_every_home_filter_round_trips(store: Store, inbox: InboxFilter) -> None:
    await store.set_home_filter("U1", inbox)
    assert await store.home_viewers() == {"U1": inbox}


async def test_datetimes_of_the_inbox_come_back_aware_utc(store: Store) -> None:
    conversation = await store.open_conversation(BUSINESS, SUBSCRIBER)
    await patch(store, conversation, seen_at=datetime(2026, 3, 2, 12, 0, 0, 123000, tzinfo=UTC))

    [listed_one] = await store.list_conversations(InboxFilter.ALL)

    for value in (listed_one.created_at, listed_one.last_activity_at, listed_one.seen_at):
        assert value is not None
        assert value.utcoffset() == timedelta(0)
    assert listed_one.seen_at == datetime(2026, 3, 2, 12, 0, 0, 123000, tzinfo=UTC)
