"""Each write stores the jobs its effect names (`bridge/store/effects.py`) in the same
write, on every engine: nothing more, nothing less."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bridge.events import (
    ConversationAssigned,
    ConversationOpened,
    DraftReady,
    Event,
    MessageReceived,
    load_event,
)
from bridge.models import DraftState, Job, JobKind, MessageDraft, MessagePurpose, Model, NewJob
from bridge.notify.registry import Notifiers
from bridge.store import effects
from bridge.store.base import Store
from bridge.threading.conversation_desk import ConversationDesk
from tests.contract.conftest import sms
from tests.contract.test_replies import open_thread, reply

FAR = datetime(2100, 1, 1, tzinfo=UTC)


async def claimed(store: Store) -> list[Job]:
    """Every pending job (each in a lane of its own here), claimed and completed."""
    jobs = await store.claim_jobs("w", now=FAR, limit=100, lease_seconds=30)
    for job in jobs:
        await store.complete_job(job)
    return jobs


async def stored(store: Store) -> set[str]:
    return {job.key for job in await claimed(store)}


def keys(jobs: list[NewJob]) -> set[str]:
    return {job.key for job in jobs}


class Listener:
    """A notifier that wants the events of a text and its draft."""

    name = "listener"
    wants: tuple[type[Model], ...] = (ConversationOpened, MessageReceived, DraftReady)

    async def notify(self, event: Event, key: str) -> None: ...


def listening(store: Store) -> None:
    store.publishing = Notifiers(store, [Listener()], on_enqueued=lambda: None).publishing


async def test_an_inbound_text_stores_the_jobs_of_after_inbound(store: Store) -> None:
    record = await store.record_inbound(sms("SM1"))
    assert await stored(store) == {f"post:{record.message.id}"}


async def test_with_a_notifier_that_wants_them_a_text_publishes_opened_and_received(
    store: Store,
) -> None:
    listening(store)
    first = await store.record_inbound(sms("SM1"))
    second = await store.record_inbound(sms("SM2"))

    published = {
        job.key: load_event(job.note) for job in await claimed(store) if job.kind is JobKind.PUBLISH
    }
    cid, ids = first.conversation.id, (first.message.id, second.message.id)
    assert set(published) == {
        f"publish:opened:{cid}",
        *(f"publish:received:{message_id}" for message_id in ids),
    }
    opened = published[f"publish:opened:{cid}"]
    assert isinstance(opened, ConversationOpened)
    assert opened.subscriber == first.conversation.subscriber


async def test_a_repeated_text_publishes_nothing_again(store: Store) -> None:
    listening(store)
    await store.record_inbound(sms("SM1"))
    before = await stored(store)
    assert (await store.record_inbound(sms("SM1"))).created is False
    assert await stored(store) == set()  # claimed above, nothing new
    assert len(before) == 3


async def test_a_saved_draft_publishes_draft_ready_once(store: Store) -> None:
    listening(store)
    record = await store.record_inbound(sms("SM1"))
    await stored(store)
    draft = MessageDraft(
        reply="We open at 9",
        confidence=0.9,
        escalate=False,
        engine="offline",
        state=DraftState.PROPOSED,
    )

    await store.save_draft(record.message.id, draft, intent="support", urgency="normal")
    await store.save_draft(record.message.id, draft, intent="support", urgency="normal")

    [ready] = await claimed(store)
    assert ready.key == f"publish:draft:{record.message.id}"
    event = load_event(ready.note)
    assert isinstance(event, DraftReady)
    assert event.reply == "We open at 9"


async def test_a_queued_reply_stores_the_jobs_of_after_queued(store: Store) -> None:
    cid = await open_thread(store)
    record = await store.record_outbound(reply(cid), send_at=FAR)
    assert await stored(store) == keys(effects.after_queued(record.message))


async def test_a_system_text_stores_the_jobs_of_after_queued(store: Store) -> None:
    cid = await open_thread(store)
    text = await store.record_system_text(cid, "Bye", MessagePurpose.HELP_REPLY, key="t1")
    assert text is not None
    assert await stored(store) == keys(effects.after_queued(text))


async def test_a_released_reply_stores_the_jobs_of_after_queued(store: Store) -> None:
    cid = await open_thread(store)
    record = await store.record_outbound(reply(cid), send_at=None)
    assert await stored(store) == set()
    released = await store.release_held(
        record.message.id, "support only", MessagePurpose.REPLY, send_at=FAR
    )
    assert released is not None
    assert await stored(store) == keys(effects.after_queued(released))


class Assignments:
    """A notifier that wants to hear of assignments only."""

    name = "assignments"
    wants: tuple[type[Model], ...] = (ConversationAssigned,)

    async def notify(self, event: Event, key: str) -> None: ...


async def test_a_conversation_change_publishes_only_what_a_notifier_wants(store: Store) -> None:
    record = await store.record_inbound(sms("SM1"))
    await stored(store)
    publishing = Notifiers(store, [Assignments()], on_enqueued=lambda: None).publishing
    desk = ConversationDesk(store, on_enqueued=lambda: None, publishing=publishing)

    await desk.assign(record.conversation, "U0BEN", by="U0ANA")
    assigned = [j for j in await claimed(store) if j.kind is JobKind.PUBLISH]
    conversation = await store.get_conversation(record.conversation.id)
    assert conversation is not None
    await desk.resolve(conversation, by="U0ANA")
    resolved = [j for j in await claimed(store) if j.kind is JobKind.PUBLISH]

    assert [type(load_event(j.note)) for j in assigned] == [ConversationAssigned]
    assert resolved == []  # nobody wants it: no PUBLISH job


async def test_a_conversation_change_and_the_jobs_it_causes_are_one_write(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A process that died right after the change would otherwise have lost its note,
    its header refresh and its notification: they are stored with it, not after it."""
    record = await store.record_inbound(sms("SM1"))
    await stored(store)
    publishing = Notifiers(store, [Assignments()], on_enqueued=lambda: None).publishing
    desk = ConversationDesk(store, on_enqueued=lambda: None, publishing=publishing)

    async def died(job: NewJob, *, run_at: datetime) -> None:
        raise RuntimeError("a write after the change: the process died before it")

    monkeypatch.setattr(store, "enqueue", died)
    await desk.assign(record.conversation, "U0BEN", by="U0ANA")
    monkeypatch.undo()

    kinds: set[JobKind] = set()
    while jobs := await claimed(store):  # a lane's jobs one at a time
        kinds |= {job.kind for job in jobs}
    assert {JobKind.SYNC_HEADER, JobKind.REFRESH_HOME, JobKind.THREAD_NOTE} <= kinds
    assert JobKind.PUBLISH in kinds
