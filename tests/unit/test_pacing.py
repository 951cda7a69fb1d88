import pytest

from bridge.delivery.errors import RetryLater
from bridge.delivery.pacing import Pacer, Rate, TokenBucket


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_then_the_steady_rate() -> None:
    clock = Clock()
    bucket = TokenBucket(Rate(per_second=2, burst=3), clock)
    for _ in range(3):
        assert bucket.delay() == 0
        bucket._tokens -= 1  # what acquire() does once the delay is 0
    assert bucket.delay() == 0.5
    clock.now += 0.5
    assert bucket.delay() == 0


def test_retry_after_holds_its_key_only() -> None:
    clock = Clock()
    pacer = Pacer(lambda _key: Rate(per_second=100, burst=10), clock)
    pacer.hold("chat.postMessage:C1", 3)
    assert pacer.held_for("chat.postMessage:C1") == 3
    assert pacer.held_for("chat.postMessage:D1") == 0
    assert pacer.held_for("chat.update:C1") == 0
    assert pacer.bucket("chat.update:C1").delay() == 0  # pacing goes on as it was
    clock.now += 1
    pacer.hold("chat.postMessage:C1", 1)  # a shorter wait never shortens a hold
    assert pacer.held_for("chat.postMessage:C1") == 2
    clock.now += 2
    assert pacer.held_for("chat.postMessage:C1") == 0


async def test_acquire_waits_for_a_token() -> None:
    bucket = TokenBucket(Rate(per_second=50, burst=1))
    await bucket.acquire()
    assert bucket.delay() > 0
    await bucket.acquire()  # waits about 20 ms, then takes it


async def test_a_long_queue_for_a_token_is_a_retry_later_not_a_wait() -> None:
    """A worker never sits out a long pacing wait that other keys' jobs could use."""
    clock = Clock()
    pacer = Pacer(lambda _key: Rate(per_second=1, burst=2), clock)
    await pacer.take("chat.update:", within=1.0)
    await pacer.take("chat.update:", within=1.0)  # the burst
    with pytest.raises(RetryLater) as later:
        await pacer.take("chat.update:", within=0.5)  # the next token is 1 s away
    assert later.value.after == pytest.approx(1.0)
    assert later.value.throttled
    clock.now += 1.0
    await pacer.take("chat.update:", within=0.5)  # its turn now: taken at once
    await pacer.take("chat.postMessage:C1", within=0.5)  # other keys never waited


async def test_refused_callers_are_given_turns_one_after_another() -> None:
    """Each refused caller is told a turn of its own, so they do not all come back at
    once and refuse one another again."""
    clock = Clock()
    pacer = Pacer(lambda _key: Rate(per_second=1, burst=1), clock)
    await pacer.take("chat.update:", within=0.5)
    turns = []
    for _ in range(4):
        with pytest.raises(RetryLater) as later:
            await pacer.take("chat.update:", within=0.5)
        assert later.value.after is not None
        turns.append(later.value.after)
    assert turns == pytest.approx([1.0, 2.0, 3.0, 4.0])


def test_a_hold_spends_the_burst_so_none_follows_it() -> None:
    clock = Clock()
    pacer = Pacer(lambda _key: Rate(per_second=1, burst=4), clock)
    bucket = pacer.bucket("chat.postMessage:C1")
    assert bucket.delay() == 0  # a full bucket: four posts at once
    pacer.hold("chat.postMessage:C1", 1)  # Slack said its budget is spent
    clock.now += 1
    assert pacer.held_for("chat.postMessage:C1") == 0
    bucket._tokens -= 1  # one post as the hold ends
    assert bucket.delay() == 1  # and then the steady rate, not the rest of a burst
