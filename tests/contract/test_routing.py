"""Routing's store methods: a routed thread carries its team and its note in one write
(compare-and-set, like set_thread), open conversations are counted per assignee, the
round-robin cursor gives every turn once across processes, contacts keep their tags."""

from __future__ import annotations

import asyncio

from bridge.events import ConversationRouted, Publishing, load_event
from bridge.models import Contact, ConversationPatch, ConversationStatus, Job, JobKind, utcnow
from bridge.store.base import Store
from tests.contract.conftest import BUSINESS, StoreFactory, sms


async def _jobs(store: Store) -> list[Job]:
    """Every job the writes enqueued, in lane order (each run to completion)."""
    done: list[Job] = []
    while claimed := await store.claim_jobs("test", now=utcnow(), limit=50, lease_seconds=30):
        for job in claimed:
            await store.complete_job(job)
        done += claimed
    return done


async def _notes(store: Store) -> list[ConversationRouted]:
    events = [load_event(job.note) for job in await _jobs(store) if job.kind is JobKind.THREAD_NOTE]
    return [event for event in events if isinstance(event, ConversationRouted)]


async def test_a_routed_thread_has_its_team_its_note_and_its_assignment(store: Store) -> None:
    conversation = await store.open_conversation(BUSINESS, "+15551230001")
    routed = ConversationRouted(conversation_id=conversation.id, team="sales", rule="rule 1: x")
    assert await store.route_thread(
        conversation.id, "C0SALES", "100.1", replacing=None, routed=routed
    )
    after = await store.get_conversation(conversation.id)
    assert after is not None
    assert (after.team, after.slack_channel, after.slack_thread_ts) == ("sales", "C0SALES", "100.1")
    assert await store.find_conversation_by_thread("C0SALES", "100.1") == after
    jobs = await _jobs(store)
    assert [load_event(job.note) for job in jobs if job.kind is JobKind.THREAD_NOTE] == [routed]
    assert [job.note for job in jobs if job.kind is JobKind.ASSIGN_TEAM] == ["sales"]


async def test_routing_a_thread_that_changed_meanwhile_changes_nothing(store: Store) -> None:
    conversation = await store.open_conversation(BUSINESS, "+15551230001")
    await store.set_thread(conversation.id, "C0INBOX", "1.1", replacing=None)
    routed = ConversationRouted(conversation_id=conversation.id, team="sales", by="U1")
    assert not await store.route_thread(
        conversation.id, "C0SALES", "2.2", replacing=None, routed=routed
    )
    assert await store.route_thread(
        conversation.id, "C0SALES", "2.2", replacing="1.1", routed=routed
    )
    assert not await store.route_thread(  # the move is done once, whoever comes second
        conversation.id, "C0SUPPORT", "3.3", replacing="1.1", routed=routed
    )
    after = await store.get_conversation(conversation.id)
    assert after is not None
    assert (after.team, after.slack_channel, after.slack_thread_ts) == ("sales", "C0SALES", "2.2")
    assert await _notes(store) == [routed]


async def test_a_routed_event_is_published_when_a_notifier_wants_it(store: Store) -> None:
    store.publishing = Publishing(frozenset({ConversationRouted}))
    conversation = await store.open_conversation(BUSINESS, "+15551230001")
    routed = ConversationRouted(conversation_id=conversation.id, team="sales")
    await store.route_thread(conversation.id, "C0SALES", "1.1", replacing=None, routed=routed)
    jobs = await _jobs(store)
    assert {job.kind for job in jobs} == {JobKind.THREAD_NOTE, JobKind.ASSIGN_TEAM, JobKind.PUBLISH}


async def test_open_conversations_are_counted_per_assignee(store: Store) -> None:
    for number, (assignee, status) in enumerate(
        [("U1", "open"), ("U1", "open"), ("U1", "resolved"), ("U2", "open"), ("U3", "open")]
    ):
        conversation = await store.open_conversation(BUSINESS, f"+1555123000{number}")
        patch = ConversationPatch(assignee=assignee, status=ConversationStatus(status))
        await store.update_conversation(conversation.id, patch)
    await store.record_inbound(sms("SM-unassigned", subscriber="+15551239999"))
    assert await store.open_assigned(["U1", "U2", "U4"]) == {"U1": 2, "U2": 1, "U4": 0}
    assert await store.open_assigned([]) == {}


async def test_round_robin_turns_are_each_given_once(new_store: StoreFactory) -> None:
    # The cursor is a shared counter: two processes asking at once never get one turn.
    first, second = await new_store(), await new_store()
    turns = await asyncio.gather(
        *(process.add_usage("turn:sales", 1) for process in (first, second) * 10)
    )
    assert sorted(turns) == list(range(1, 21))


async def test_contacts_keep_their_tags(store: Store) -> None:
    await store.put_contact(Contact(phone="+15551230001", name="Ana", tags=("vip", "regulars")))
    contact = await store.get_contact("+15551230001")
    assert contact is not None
    assert contact.tags == ("vip", "regulars")
    await store.put_contact(Contact(phone="+15551230001", name="Ana"))
    contact = await store.get_contact("+15551230001")
    assert contact is not None
    assert contact.tags == ()
