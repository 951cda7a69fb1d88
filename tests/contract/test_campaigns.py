"""Campaigns, their recipients and their texts, on every engine."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from bridge.campaigns.models import (
    QUOTE_WINDOW,
    Audience,
    Campaign,
    CampaignSpec,
    CampaignState,
    RecipientState,
)
from bridge.jobs import campaign_pump_job, close_campaign_job
from bridge.models import (
    ConsentEvent,
    ConsentKind,
    ConsentSource,
    DeliveryStatus,
    Direction,
    InboxFilter,
    JobKind,
    Message,
    MessagePurpose,
    utcnow,
)
from bridge.store.base import Store
from tests.contract.conftest import BUSINESS, T0, sms

PEOPLE = [f"+1555123{n:04d}" for n in range(1, 6)]


def campaign(campaign_id: str = "c1", *, at: timedelta = timedelta(0)) -> Campaign:
    spec = CampaignSpec(
        name="spring", from_number=BUSINESS, to=Audience(tags=("regulars",)), text="Hi {name}"
    )
    return Campaign(
        id=campaign_id,
        spec=spec,
        state=CampaignState.SCHEDULED,
        created_by="cli",
        created_at=T0 + at,
    )


def text(cid: str, conversation_id: int, subscriber: str) -> Message:
    return Message(
        id=f"campaign:{cid}:{subscriber}",
        conversation_id=conversation_id,
        direction=Direction.OUTBOUND,
        body=f"Hi {subscriber}",
        created_at=T0,
        status=DeliveryStatus.QUEUED,
        purpose=MessagePurpose.MARKETING,
        campaign_id=cid,
    )


async def queue(store: Store, cid: str, subscriber: str) -> Message:
    conversation = await store.open_conversation(BUSINESS, subscriber)
    message = text(cid, conversation.id, subscriber)
    assert await store.queue_campaign_text(message, subscriber, send_at=T0)
    return message


async def test_a_campaign_is_stored_with_its_recipients_once(store: Store) -> None:
    due = T0 + timedelta(hours=1)
    assert await store.create_campaign(campaign(), PEOPLE, jobs=[(campaign_pump_job("c1"), due)])
    assert not await store.create_campaign(campaign(), [*PEOPLE, "+15559990000"])

    stored = await store.get_campaign("c1")
    assert stored == campaign()
    recipients = await store.campaign_recipients("c1")
    assert [r.subscriber for r in recipients] == PEOPLE
    assert {r.state for r in recipients} == {RecipientState.PENDING}
    assert await store.claim_jobs("w", now=T0, limit=10, lease_seconds=30) == []
    [pump] = await store.claim_jobs("w", now=due, limit=10, lease_seconds=30)
    assert (pump.kind, pump.note) == (JobKind.CAMPAIGN_PUMP, "c1")
    assert await store.get_campaign("nope") is None


async def test_campaigns_are_listed_newest_first(store: Store) -> None:
    for n in range(3):
        await store.create_campaign(campaign(f"c{n}", at=timedelta(minutes=n)), PEOPLE[:1])
    assert [c.id for c in await store.list_campaigns()] == ["c2", "c1", "c0"]
    assert [c.id for c in await store.list_campaigns(limit=1)] == ["c2"]


async def test_state_moves_only_from_what_is_expected(store: Store) -> None:
    await store.create_campaign(campaign(), PEOPLE)
    paused = await store.set_campaign_state(
        "c1", CampaignState.PAUSED, expect=[CampaignState.SCHEDULED, CampaignState.SENDING]
    )
    assert paused is not None
    assert paused.state is CampaignState.PAUSED
    again = await store.set_campaign_state(
        "c1", CampaignState.PAUSED, expect=[CampaignState.SCHEDULED, CampaignState.SENDING]
    )
    assert again is None
    assert await store.set_campaign_state("c9", CampaignState.DONE, expect=[]) is None


async def test_start_and_finish_record_their_times_and_jobs(store: Store) -> None:
    await store.create_campaign(campaign(), PEOPLE[:1])
    closes = T0 + timedelta(hours=24)
    started = await store.start_campaign(
        "c1", at=T0, closes_at=closes, jobs=[(close_campaign_job("c1"), closes)]
    )
    assert started is not None
    assert (started.state, started.started_at, started.closes_at) == (
        CampaignState.SENDING,
        T0,
        closes,
    )
    assert await store.start_campaign("c1", at=T0, closes_at=None) is None
    [close] = await store.claim_jobs("w", now=closes, limit=10, lease_seconds=30)
    assert close.kind is JobKind.CLOSE_CAMPAIGN
    # A recipient still pending: not done yet.
    assert await store.finish_campaign("c1", at=T0) is None
    await store.skip_recipient("c1", PEOPLE[0], "opted out")
    done = await store.finish_campaign("c1", at=T0 + timedelta(minutes=1))
    assert done is not None
    assert (done.state, done.finished_at) == (CampaignState.DONE, T0 + timedelta(minutes=1))


async def test_slack_places_and_closing(store: Store) -> None:
    await store.create_campaign(campaign(), PEOPLE[:1])
    await store.set_campaign_slack("c1", channel="C1", progress_ts="1.1")
    await store.set_campaign_slack("c1", channel="C1", results_ts="2.2")
    stored = await store.get_campaign("c1")
    assert stored is not None
    assert (stored.slack_channel, stored.progress_ts, stored.results_ts) == ("C1", "1.1", "2.2")
    closed = await store.close_campaign("c1")
    assert closed is not None
    assert closed.closed
    assert await store.close_campaign("c1") is None


async def test_queueing_a_recipient_is_one_write_without_inbox_activity(store: Store) -> None:
    await store.create_campaign(campaign(), PEOPLE)
    pending = await store.pending_recipients("c1", limit=2)
    assert [r.subscriber for r in pending] == PEOPLE[:2]
    before = await store.open_conversation(BUSINESS, PEOPLE[0])

    message = await queue(store, "c1", PEOPLE[0])
    again = text("c1", before.id, PEOPLE[0])
    assert not await store.queue_campaign_text(again, PEOPLE[0], send_at=T0)
    assert await store.skip_recipient("c1", PEOPLE[1], "no marketing consent")
    assert not await store.skip_recipient("c1", PEOPLE[1], "no marketing consent")

    stored = await store.get_message(message.id)
    assert stored == message
    after = await store.get_conversation(before.id)
    assert after is not None
    assert after.last_activity_at == before.last_activity_at
    recipients = {r.subscriber: r for r in await store.campaign_recipients("c1")}
    assert recipients[PEOPLE[0]].state is RecipientState.QUEUED
    assert recipients[PEOPLE[0]].message_id == message.id
    assert recipients[PEOPLE[0]].conversation_id == before.id
    assert recipients[PEOPLE[1]].state is RecipientState.SKIPPED
    assert recipients[PEOPLE[1]].reason == "no marketing consent"
    assert [r.subscriber for r in await store.pending_recipients("c1", limit=10)] == PEOPLE[2:]
    [send] = await store.claim_jobs("w", now=T0, limit=10, lease_seconds=30)
    assert (send.kind, send.message_id) == (JobKind.SEND_SMS, message.id)


async def test_progress_counts_recipients_and_their_texts(store: Store) -> None:
    await store.create_campaign(campaign(), PEOPLE)
    await store.start_campaign("c1", at=T0, closes_at=None)
    texts = [await queue(store, "c1", p) for p in PEOPLE[:4]]
    await store.skip_recipient("c1", PEOPLE[4], "opted out")
    for n, message in enumerate(texts[:3]):
        await store.begin_send(message.id)
        await store.finish_send(message.id, DeliveryStatus.SENT, sid=f"SM{n}")
    await store.update_delivery("SM0", DeliveryStatus.DELIVERED, None)
    await store.update_delivery("SM1", DeliveryStatus.UNDELIVERED, 30003)
    await store.record_consent(
        [
            ConsentEvent(
                business_number=BUSINESS,
                subscriber=PEOPLE[2],
                kind=ConsentKind.CONVERSATIONAL,
                granted=False,
                source=ConsentSource.KEYWORD,
                at=T0 + timedelta(minutes=5),
                ref="stop-1",
            )
        ]
    )

    progress = await store.campaign_progress("c1")

    assert progress.total == 5
    assert progress.pending == 0
    assert progress.skipped == 1
    assert progress.queued == 1
    assert progress.sent == 3  # delivered and undelivered were accepted first
    assert progress.delivered == 1
    assert progress.failed == 1
    assert progress.opted_out_since == 1
    assert await store.cancel_campaign_texts("c1") == 1
    assert (await store.campaign_progress("c1")).queued == 0


async def test_the_latest_campaign_text_the_provider_accepted(store: Store) -> None:
    for cid in ("c1", "c2"):
        await store.create_campaign(campaign(cid), PEOPLE[:1])
    first = await queue(store, "c1", PEOPLE[0])
    await store.begin_send(first.id)
    await store.finish_send(first.id, DeliveryStatus.SENT, sid="SMa")
    await queue(store, "c2", PEOPLE[0])  # not sent yet

    found = await store.latest_campaign_text(BUSINESS, PEOPLE[0])

    assert found is not None
    assert (found[0].id, found[1].id, found[1].sid) == ("c1", first.id, "SMa")
    assert await store.latest_campaign_text(BUSINESS, PEOPLE[1]) is None


async def test_a_conversation_a_campaign_opens_is_no_inbox_activity(store: Store) -> None:
    talking = await store.record_inbound(sms("SM1", subscriber=PEOPLE[0]))
    known = await store.open_campaign_conversation(BUSINESS, PEOPLE[0])
    opened = await store.open_campaign_conversation(BUSINESS, PEOPLE[1])

    assert known == talking.conversation
    again = await store.open_campaign_conversation(BUSINESS, PEOPLE[1])
    assert again == opened
    assert opened.id != known.id
    inbox = await store.list_conversations(InboxFilter.ALL)
    assert [c.id for c in inbox] == [known.id, opened.id]  # the campaign's last
    assert opened.last_activity_at < talking.conversation.last_activity_at


async def test_a_campaign_listing_thousands_of_numbers_is_read_without_its_audience(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    # latest_campaign_text runs for every inbound text: a spec never changes once
    # stored, so it is parsed once per store, whatever its audience, and the state
    # is still read fresh each time.
    numbers = tuple(f"+1415{n:07d}" for n in range(10_000))
    listed = campaign("big").model_copy(
        update={"spec": campaign().spec.model_copy(update={"to": Audience(numbers=numbers)})}
    )
    await store.create_campaign(listed, numbers[:1])
    sent = await queue(store, "big", numbers[0])
    await store.begin_send(sent.id)
    await store.finish_send(sent.id, DeliveryStatus.SENT, sid="SMbig")
    first = await store.latest_campaign_text(BUSINESS, numbers[0])
    assert first is not None
    assert first[0].spec.to.numbers == numbers
    parsed = 0
    validate, validate_json = CampaignSpec.model_validate, CampaignSpec.model_validate_json

    def counted(original: Callable[..., CampaignSpec]) -> Callable[..., CampaignSpec]:
        def parse(*args: object, **kwargs: object) -> CampaignSpec:
            nonlocal parsed
            parsed += 1
            return original(*args, **kwargs)

        return parse

    monkeypatch.setattr(CampaignSpec, "model_validate", counted(validate))
    monkeypatch.setattr(CampaignSpec, "model_validate_json", counted(validate_json))
    await store.set_campaign_state("big", CampaignState.PAUSED, expect=[CampaignState.SCHEDULED])

    for _ in range(20):
        found = await store.latest_campaign_text(BUSINESS, numbers[0])
        assert found is not None
        assert found[0].state is CampaignState.PAUSED
        assert found[0].spec.to.numbers == numbers
    assert parsed == 0


async def test_a_pump_run_opens_and_queues_its_batch_in_one_call_each(store: Store) -> None:
    # One transaction for a run's batch (SQLite: one fsync, not one per recipient);
    # each recipient is still queued exactly once.
    await store.create_campaign(campaign(), PEOPLE)
    talking = await store.open_conversation(BUSINESS, PEOPLE[0])

    opened = await store.open_campaign_conversations(BUSINESS, PEOPLE[:3])
    assert list(opened) == PEOPLE[:3]
    assert opened[PEOPLE[0]].id == talking.id
    assert (await store.open_campaign_conversations(BUSINESS, PEOPLE[:3])) == opened
    texts = [
        (text("c1", opened[who].id, who), who, T0 + timedelta(seconds=n))
        for n, who in enumerate(PEOPLE[:3])
    ]
    assert await store.queue_campaign_texts(texts) == 3
    assert await store.queue_campaign_texts(texts) == 0

    recipients = {r.subscriber: r for r in await store.campaign_recipients("c1")}
    assert [recipients[who].state for who in PEOPLE[:3]] == [RecipientState.QUEUED] * 3
    jobs = await store.claim_jobs("w", now=T0 + timedelta(seconds=5), limit=10, lease_seconds=30)
    assert sorted(job.message_id or "" for job in jobs) == sorted(m.id for m, _, _ in texts)
    assert (await store.campaign_progress("c1")).queued == 3


async def test_no_campaign_text_is_found_while_no_campaign_listens(store: Store) -> None:
    # Looked up for every inbound text: skipped while no campaign may be answered or
    # quoted, and a campaign this store creates is seen at once.
    assert await store.latest_campaign_text(BUSINESS, PEOPLE[0]) is None
    await store.create_campaign(campaign("c1"), PEOPLE[:1])
    sent = await queue(store, "c1", PEOPLE[0])
    await store.begin_send(sent.id)
    await store.finish_send(sent.id, DeliveryStatus.SENT, sid="SMc1")
    assert await store.latest_campaign_text(BUSINESS, PEOPLE[0]) is not None

    long_ago = utcnow() - QUOTE_WINDOW - timedelta(hours=1)
    await store.start_campaign("c1", at=long_ago, closes_at=None)
    await store.finish_campaign("c1", at=long_ago)  # no answers, quoted 24 h: over
    assert await store.latest_campaign_text(BUSINESS, PEOPLE[0]) is None
