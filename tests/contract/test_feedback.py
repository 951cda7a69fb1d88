"""Ratings for the feedback report and the review requests' period, on every engine:
only rating requests' answers count, a review request is claimed once per subscriber
and period (and again by the same key, for a retry)."""

from __future__ import annotations

from datetime import timedelta

from bridge.campaigns.models import (
    Answer,
    Audience,
    Campaign,
    CampaignSpec,
    CampaignState,
    Feedback,
    Poll,
)
from bridge.store.base import Store
from tests.contract.conftest import BUSINESS, T0

WHO = "+15551230001"
DAYS = timedelta(days=90)


def campaign(campaign_id: str, *, rating: bool) -> Campaign:
    spec = CampaignSpec(
        name=campaign_id,
        from_number=BUSINESS,
        to=Audience(numbers=(WHO,)),
        text="How was it? Reply 1-5",
        feedback=Feedback() if rating else None,
        poll=None if rating else Poll(options={"A": "Mango", "B": "Kiwi"}),
    )
    return Campaign(
        id=campaign_id, spec=spec, state=CampaignState.SCHEDULED, created_by="cli", created_at=T0
    )


def answer(campaign_id: str, choice: str, *, who: str = WHO, days: float = 0) -> Answer:
    at = T0 + timedelta(days=days)
    sid = f"SM{campaign_id}{who[-4:]}{choice}"
    return Answer(
        campaign_id=campaign_id, subscriber=who, choice=choice, text=choice, sid=sid, at=at
    )


async def test_ratings_since_counts_only_rating_requests_in_the_period(store: Store) -> None:
    await store.create_campaign(campaign("rate", rating=True), [WHO])
    await store.create_campaign(campaign("poll", rating=False), [WHO])
    await store.record_answer(answer("rate", "2", days=-10), keep="first")
    await store.record_answer(answer("rate", "5", who="+15551230002", days=1), keep="first")
    await store.record_answer(answer("rate", "4", who="+15551230003", days=2), keep="first")
    await store.record_answer(answer("poll", "3", days=1))  # a poll's "3" is no rating
    found = await store.ratings_since(T0)
    assert [(a.subscriber, a.choice) for a in found] == [
        ("+15551230002", "5"),
        ("+15551230003", "4"),
    ]
    assert found[0].at == T0 + timedelta(days=1)


async def test_the_counted_rating_of_a_subscriber_is_found(store: Store) -> None:
    await store.record_answer(answer("rate", "3"), keep="first")
    await store.record_answer(answer("rate", "5", days=1), keep="first")
    counted = await store.counted_answer("rate", WHO)
    assert counted is not None
    assert counted.choice == "3"
    assert await store.counted_answer("rate", "+15551230009") is None


async def test_a_review_request_is_claimed_once_per_subscriber_and_period(store: Store) -> None:
    assert await store.claim_review(BUSINESS, WHO, key="r1", at=T0, every=DAYS)
    assert await store.claim_review(BUSINESS, WHO, key="r1", at=T0, every=DAYS)  # a retry
    later = T0 + timedelta(days=30)
    assert not await store.claim_review(BUSINESS, WHO, key="r2", at=later, every=DAYS)
    assert await store.claim_review(BUSINESS, "+15551230002", key="r2", at=later, every=DAYS)
    after = T0 + timedelta(days=91)
    assert await store.claim_review(BUSINESS, WHO, key="r3", at=after, every=DAYS)
    assert not await store.claim_review(BUSINESS, WHO, key="r1", at=after, every=DAYS)
