"""Answers to campaigns, on every engine: one counted answer per subscriber (the last or
the first), a MessageSid recorded twice changes nothing, tallies and the answers behind
them agree."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bridge.campaigns.models import Answer
from bridge.jobs import campaign_results_job
from bridge.models import JobKind, utcnow
from bridge.store.base import Store
from tests.contract.conftest import T0, StoreFactory, sms


def answer(sid: str, choice: str, *, who: str = "+15551230001", minutes: int = 0) -> Answer:
    return Answer(
        campaign_id="c1",
        subscriber=who,
        choice=choice,
        text=choice.lower(),
        sid=sid,
        at=T0 + timedelta(minutes=minutes),
    )


async def test_each_subscriber_counts_once_and_the_last_vote_replaces_the_first(
    store: Store,
) -> None:
    assert await store.record_answer(answer("SM1", "A"))
    assert await store.record_answer(answer("SM2", "B", who="+15551230002"))
    assert await store.record_answer(answer("SM3", "B", minutes=1))
    tally = await store.tally("c1")
    assert tally.counts == {"B": 2}
    assert tally.total == 2
    answers = await store.campaign_answers("c1")
    assert [(a.subscriber, a.choice, a.sid) for a in answers] == [
        ("+15551230002", "B", "SM2"),
        ("+15551230001", "B", "SM3"),
    ]
    assert answers[1].at == T0 + timedelta(minutes=1)


async def test_first_keeps_the_first_vote(store: Store) -> None:
    assert await store.record_answer(answer("SM1", "A"), keep="first")
    assert not await store.record_answer(answer("SM2", "B", minutes=1), keep="first")
    assert (await store.tally("c1")).counts == {"A": 1}


async def test_a_known_sid_changes_nothing_even_after_a_newer_vote(store: Store) -> None:
    assert await store.record_answer(answer("SM1", "A"))
    assert not await store.record_answer(answer("SM1", "A"))
    assert await store.record_answer(answer("SM2", "B", minutes=1))
    # A provider's late retry of the first vote does not bring it back.
    assert not await store.record_answer(answer("SM1", "A"))
    assert (await store.tally("c1")).counts == {"B": 1}


async def test_an_older_vote_arriving_late_does_not_replace_a_newer_one(store: Store) -> None:
    assert await store.record_answer(answer("SM2", "B", minutes=1))
    assert not await store.record_answer(answer("SM1", "A"))
    assert [a.choice for a in await store.campaign_answers("c1")] == ["B"]


async def test_campaigns_are_counted_apart(store: Store) -> None:
    await store.record_answer(answer("SM1", "A"))
    other = answer("SM2", "C").model_copy(update={"campaign_id": "c2"})
    await store.record_answer(other)
    assert (await store.tally("c1")).counts == {"A": 1}
    assert (await store.tally("c2")).counts == {"C": 1}
    assert (await store.tally("nope")).total == 0
    assert await store.campaign_answers("nope") == []


async def test_concurrent_answers_from_many_processes_are_all_counted(
    new_store: StoreFactory,
) -> None:
    first, second = await new_store(), await new_store()
    votes = [answer(f"SM{i}", "AB"[i % 2], who=f"+1555123{i:04d}") for i in range(40)]
    results = await asyncio.gather(
        *((first if i % 2 else second).record_answer(vote) for i, vote in enumerate(votes + votes))
    )
    assert sum(results) == 40
    assert (await first.tally("c1")).counts == {"A": 20, "B": 20}


async def test_a_text_keeps_the_campaign_text_it_replies_to(store: Store) -> None:
    record = await store.record_inbound(
        sms("SM1", body="what flavours?").model_copy(update={"answers": "m1"})
    )
    assert record.message.answers == "m1"
    stored = await store.get_message(record.message.id)
    assert stored is not None
    assert stored.answers == "m1"
    assert (await store.record_inbound(sms("SM2"))).message.answers is None


async def test_jobs_follow_an_answer_in_its_write_one_pending_per_burst(store: Store) -> None:
    job = campaign_results_job("c1")
    await asyncio.gather(
        *(
            store.record_answer(answer(f"SM{i}", "A", who=f"+1555123{i:04d}"), jobs=[job])
            for i in range(8)
        )
    )
    assert (await store.queue_depth())[JobKind.CAMPAIGN_RESULTS.value] == 1
    [claimed] = await store.claim_jobs("w", now=utcnow(), limit=10, lease_seconds=30)
    assert claimed.note == "c1"
    await store.complete_job(claimed)
    # A provider's retry of a known answer changes no count, but its jobs come again:
    # the first delivery may have crashed before they were enqueued.
    assert not await store.record_answer(answer("SM0", "A", who="+15551230000"), jobs=[job])
    assert (await store.queue_depth())[JobKind.CAMPAIGN_RESULTS.value] == 1
