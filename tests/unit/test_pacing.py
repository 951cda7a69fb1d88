from bridge.delivery.pacing import Rate, TokenBucket


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


def test_retry_after_blocks_the_key() -> None:
    clock = Clock()
    bucket = TokenBucket(Rate(per_second=100, burst=10), clock)
    bucket.block(3)
    assert bucket.delay() == 3
    clock.now += 3
    assert bucket.delay() == 0


async def test_acquire_waits_for_a_token() -> None:
    bucket = TokenBucket(Rate(per_second=50, burst=1))
    await bucket.acquire()
    assert bucket.delay() > 0
    await bucket.acquire()  # waits about 20 ms, then takes it
