"""Token buckets pace sends; the circuit breaker rests a failing agent; the sender limit
judges arrival times, so a backlog after an outage is not a flood."""

import time

import pytest

from router.limits import BreakerState, CircuitBreaker, SenderRate, TokenBucket, Turns


def test_a_token_bucket_allows_its_burst_then_its_rate() -> None:
    now = [100.0]
    bucket = TokenBucket(rate=20, burst=5, clock=lambda: now[0])
    assert [bucket.reserve() for _ in range(5)] == [0.0] * 5  # the burst, at once
    waits = [bucket.reserve() for _ in range(5)]  # then one every 1/20 s
    assert waits == pytest.approx([0.05, 0.10, 0.15, 0.20, 0.25])
    now[0] += 1.0  # a quiet second refills the bucket, but never past its burst
    assert [bucket.try_take() for _ in range(6)] == [True] * 5 + [False]


def test_a_token_buckets_wait_says_when_the_next_token_is_free_and_takes_none() -> None:
    now = [0.0]
    bucket = TokenBucket(rate=2.0, burst=1.0, clock=lambda: now[0])
    assert bucket.wait() == 0.0
    assert bucket.reserve() == 0.0
    assert bucket.wait() == pytest.approx(0.5)
    assert bucket.wait() == pytest.approx(0.5)  # asking took nothing
    now[0] = 0.5
    assert bucket.wait() == 0.0


def test_tokens_spent_elsewhere_delay_the_next_take_but_owe_at_most_the_limit() -> None:
    now = [0.0]
    bucket = TokenBucket(rate=10, burst=10, clock=lambda: now[0])
    bucket.spend(4, most_owed=10)  # four messages arrived: six of the burst are left
    assert [bucket.try_take() for _ in range(7)] == [True] * 6 + [False]
    bucket.spend(50, most_owed=10)  # a flood owes a second's worth, not five
    assert bucket.wait() == pytest.approx(1.1)
    now[0] = 1.1
    assert bucket.try_take()
    # Takes reserved ahead already owe more than the limit: spending never repays them.
    for _ in range(30):
        bucket.reserve()
    owed = bucket.wait()
    bucket.spend(1, most_owed=10)
    assert bucket.wait() == pytest.approx(owed)


def test_messages_waiting_for_one_person_get_turns_in_order_and_keep_them() -> None:
    """Notices for one owner paced at 2 a second: each is given a turn half a second after
    the one before, so two asking at once do not both hear "now", and asking again keeps
    it, so none is woken for a slot another one takes. Turns take no tokens: the sends do."""
    now = [0.0]
    bucket = TokenBucket(rate=2.0, burst=2.0, clock=lambda: now[0])
    turns = Turns(kept_seconds=60, clock=lambda: now[0])
    waits = [turns.wait("owner", f"m{n}", bucket) for n in range(4)]
    assert waits == pytest.approx([0.0, 0.5, 1.0, 1.5])
    assert turns.wait("owner", "m3", bucket) == pytest.approx(1.5)  # asked again: the same
    assert bucket.full  # nothing was taken: a sign-in code to the owner may still go now
    assert bucket.try_take()  # m0's notice goes
    now[0] = 0.5
    assert turns.wait("owner", "m1", bucket) == 0.0  # its turn came
    assert turns.wait("owner", "m4", bucket) == pytest.approx(1.5)  # after m3, at 2.0
    other = TokenBucket(rate=2.0, burst=2.0, clock=lambda: now[0])
    assert turns.wait("someone else", "m9", other) == 0.0  # another person, another queue
    now[0] = 100.0
    assert turns.wait("owner", "m1", bucket) == 0.0  # long past: forgotten, a new turn
    assert turns.wait("owner", "m5", bucket) == pytest.approx(0.5)  # a slot after it


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
