"""Browsers subscribed to a person's Web Push notifications: kept per endpoint (a
browser that subscribes again replaces its old subscription), listed per Slack user,
dropped when the push service says the endpoint is gone; the same from every process."""

from __future__ import annotations

from datetime import timedelta

from bridge.models import PushSubscription
from bridge.store.base import Store
from tests.contract.conftest import T0, StoreFactory

P256DH = "B" + "A" * 86  # 65 bytes, base64url
AUTH = "A" * 22  # 16 bytes, base64url


def subscription(user: str, endpoint: str, minutes: int = 0) -> PushSubscription:
    return PushSubscription(
        user=user,
        endpoint=endpoint,
        p256dh=P256DH,
        auth=AUTH,
        created_at=T0 + timedelta(minutes=minutes),
    )


async def test_nobody_is_subscribed_at_first(store: Store) -> None:
    assert await store.push_subscriptions("U1") == []


async def test_subscriptions_are_listed_per_person_oldest_first(store: Store) -> None:
    phone = subscription("U1", "https://push.example/phone", 1)
    laptop = subscription("U1", "https://push.example/laptop", 2)
    other = subscription("U2", "https://push.example/other", 3)
    for each in (phone, laptop, other):
        await store.save_push_subscription(each)
    assert await store.push_subscriptions("U1") == [phone, laptop]
    assert await store.push_subscriptions("U2") == [other]


async def test_an_endpoint_subscribed_again_is_kept_once(store: Store) -> None:
    await store.save_push_subscription(subscription("U1", "https://push.example/shared", 1))
    again = subscription("U2", "https://push.example/shared", 2)  # another person, same browser
    await store.save_push_subscription(again)
    assert await store.push_subscriptions("U1") == []
    assert await store.push_subscriptions("U2") == [again]


async def test_a_gone_endpoint_is_dropped(store: Store) -> None:
    kept = subscription("U1", "https://push.example/kept")
    await store.save_push_subscription(kept)
    await store.save_push_subscription(subscription("U1", "https://push.example/gone"))
    await store.drop_push_subscription("https://push.example/gone")
    await store.drop_push_subscription("https://push.example/never-there")
    assert await store.push_subscriptions("U1") == [kept]


async def test_a_second_process_sees_them(new_store: StoreFactory, store: Store) -> None:
    saved = subscription("U1", "https://push.example/phone")
    await store.save_push_subscription(saved)
    other = await new_store()
    assert await other.push_subscriptions("U1") == [saved]
