"""Token buckets pace sends; the circuit breaker rests a failing agent; the sender limit
judges arrival times, so a backlog after an outage is not a flood."""

import asyncio
import time

from router.limits import BreakerState, CircuitBreaker, SenderRate, TokenBucket


def test_a_token_bucket_allows_its_burst_then_its_rate() -> None:
    bucket = TokenBucket(rate=20, burst=5)

    async def take(n: int) -> float:
        started = time.monotonic()
        for _ in range(n):
            await bucket.take()
        return time.monotonic() - started

    assert asyncio.run(take(5)) < 0.05
    assert 0.2 <= asyncio.run(take(5)) < 0.4  # 5 more at 20/s


def test_the_breaker_opens_after_failures_and_lets_one_trial_through() -> None:
    breaker = CircuitBreaker(failures=2, reset_seconds=0.1)
    assert breaker.allow() == 0
    breaker.failed()
    assert breaker.state is BreakerState.CLOSED
    breaker.failed()
    assert breaker.state is BreakerState.OPEN
    assert breaker.allow() > 0
    time.sleep(0.12)
    assert breaker.allow() == 0  # the trial
    assert breaker.allow() > 0  # only one at a time
    breaker.failed()
    assert breaker.state is BreakerState.OPEN
    time.sleep(0.12)
    assert breaker.allow() == 0
    breaker.succeeded()
    assert breaker.state is BreakerState.CLOSED


def test_the_sender_limit_judges_arrival_times_once_per_message() -> None:
    rate = SenderRate(rate=1.0, burst=2)
    assert rate.allow("c-1", "m1", 100.0)
    assert rate.allow("c-1", "m2", 100.0)
    assert not rate.allow("c-1", "m3", 100.0)
    assert not rate.allow("c-1", "m3", 500.0)  # a retry keeps its verdict
    assert rate.allow("c-1", "m4", 101.5)  # a second later there is room again
    spread = SenderRate(rate=1.0, burst=2)
    assert all(spread.allow("c-2", f"m{n}", 100.0 + n * 2) for n in range(10))
