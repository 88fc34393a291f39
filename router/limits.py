"""Rate limits: a TokenBucket per key, a CircuitBreaker per tenant, and the allowance of
failed signatures before requests go unheard."""

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable
from enum import StrEnum
from typing import TypeVar


class TokenBucket:
    """`rate` tokens a second, holding at most `burst`; `take` waits until one is free."""

    def __init__(
        self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._tokens = burst
        self._at = clock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
        self._at = now

    def try_take(self) -> bool:
        self._refill()
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        return False

    def reserve(self) -> float:
        """Take a token now or in the future; the seconds to wait before using it."""
        self._refill()
        self._tokens -= 1
        return 0.0 if self._tokens >= 0 else -self._tokens / self.rate

    def spend(self, count: float, most_owed: float) -> None:
        """Count `count` tokens as used now by something this bucket did not pace (messages
        that arrived), owing at most `most_owed`: later takes wait until they are repaid.
        A bucket already owing more (takes reserved ahead) owes no less for it."""
        self._refill()
        self._tokens = min(self._tokens, max(-most_owed, self._tokens - count))

    def wait(self) -> float:
        """Seconds until a token is free (0: one is free now); nothing is taken."""
        self._refill()
        return 0.0 if self._tokens >= 1 else (1 - self._tokens) / self.rate

    async def take(self) -> None:
        wait = self.reserve()
        if wait > 0:
            await asyncio.sleep(wait)

    @property
    def full(self) -> bool:
        self._refill()
        return self._tokens >= self.burst

    @property
    def ready(self) -> bool:
        """Whether a token is free now (nothing is taken)."""
        self._refill()
        return self._tokens >= 1


V = TypeVar("V")


class TokenBuckets:
    """One TokenBucket per key (phone number, recipient), the least recently used evicted."""

    def __init__(
        self,
        rate: float,
        burst: float,
        max_keys: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._rate = rate
        self._burst = burst
        self._max = max_keys
        self._clock = clock
        self._buckets: OrderedDict[str, TokenBucket] = OrderedDict()

    def get(self, key: str) -> TokenBucket | None:
        """The key's bucket if it has one (a key without one has its whole burst)."""
        return self._buckets.get(key)

    def __getitem__(self, key: str) -> TokenBucket:
        return _recent(
            self._buckets, key, lambda: TokenBucket(self._rate, self._burst, self._clock), self._max
        )


class Turns:
    """Turns to send to a paced key (one business-to-person pair), given out in order.

    Some messages wait for their turn in the inbox, not in a worker: an owner's handoff
    notices, because Meta paces what goes to one person. Told only how long until a token is
    free, every waiting message would hear the same answer, come back together, and all but
    one be put back again: n messages waiting, n looks at every free slot. Here each message
    is given a turn on its first ask, one bucket interval (1 / rate) after the turn given
    before it, and keeps it when it asks again: the n-th comes back after the n - 1 ahead
    of it, and each is looked at about once. Two asking at the same moment get turns a
    slot apart, not both "now". Turns take no tokens: the send still takes its own, so
    other sends to that person (an owner's sign-in code) never queue behind the notices;
    spaced a slot apart, the notices leave the bucket's burst to them. A turn is forgotten
    `kept_seconds` after it came. Turns live in one router process: a message retried by
    another replica asks there."""

    def __init__(
        self,
        kept_seconds: float = 300.0,
        max_keys: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._kept = kept_seconds
        self._max = max_keys
        self._clock = clock
        self._queues: OrderedDict[str, OrderedDict[str, float]] = OrderedDict()

    def wait(self, key: str, who: str, bucket: TokenBucket) -> float:
        """Seconds until `who`'s turn to send to `key` (0: now), paced by `bucket`."""
        now = self._clock()
        queue = _recent(self._queues, key, OrderedDict, self._max)
        while queue and next(iter(queue.values())) < now - self._kept:
            queue.popitem(last=False)  # turns are given in order: the oldest first
        due = queue.get(who)
        if due is not None:
            return max(0.0, due - now)
        due = now + bucket.wait()
        if queue:  # a slot after the turn given before
            due = max(due, next(reversed(queue.values())) + 1 / bucket.rate)
        queue[who] = due
        return due - now


def _recent(entries: OrderedDict[str, V], key: str, make: Callable[[], V], most: int) -> V:
    """`key`'s entry, made if missing, now the most recently used; past `most` entries the
    least recently used is forgotten."""
    entry = entries.get(key)
    if entry is None:
        entry = entries[key] = make()
        if len(entries) > most:
            entries.popitem(last=False)
    else:
        entries.move_to_end(key)
    return entry


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    """Stops calling a failing agent for `reset_seconds`, then lets one call test it."""

    def __init__(self, failures: int, reset_seconds: float) -> None:
        self._threshold = failures
        self._reset = reset_seconds
        self._failures = 0
        self._opened_at: float | None = None
        self._trial = False

    @property
    def state(self) -> BreakerState:
        if self._opened_at is None:
            return BreakerState.CLOSED
        if time.monotonic() - self._opened_at >= self._reset:
            return BreakerState.HALF_OPEN
        return BreakerState.OPEN

    def allow(self) -> float:
        """0 when a call may go ahead; otherwise the seconds until the next trial."""
        state = self.state
        if state is BreakerState.CLOSED:
            return 0.0
        if state is BreakerState.HALF_OPEN and not self._trial:
            self._trial = True
            return 0.0
        opened = self._opened_at if self._opened_at is not None else time.monotonic()
        return max(0.05, self._reset - (time.monotonic() - opened))

    def succeeded(self) -> None:
        self._failures = 0
        self._opened_at = None
        self._trial = False

    def failed(self) -> None:
        self._failures += 1
        if self._trial or self._failures >= self._threshold:
            self._opened_at = time.monotonic()
        self._trial = False


class SenderRate:
    """A per-sender limit on how fast messages *arrived* (by WhatsApp's timestamps), so a
    backlog answered after an outage is not mistaken for a flood. Each message is judged
    once; a retried message keeps its verdict."""

    def __init__(self, rate: float, burst: float, max_keys: int = 100_000) -> None:
        self._rate = rate
        self._burst = burst
        self._max = max_keys
        self._senders: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._verdicts: OrderedDict[str, bool] = OrderedDict()

    def allow(self, sender: str, message_id: str, at: float) -> bool:
        verdict = self._verdicts.get(message_id)
        if verdict is not None:
            return verdict
        tokens, last = self._senders.get(sender, (self._burst, at))
        tokens = min(self._burst, tokens + max(0.0, at - last) * self._rate)
        verdict = tokens >= 1
        self._senders[sender] = (tokens - 1 if verdict else tokens, max(at, last))
        self._senders.move_to_end(sender)
        self._verdicts[message_id] = verdict
        for table in (self._senders, self._verdicts):
            while len(table) > self._max:
                table.popitem(last=False)
        return verdict

    def calm(self, sender: str, at: float) -> bool:
        """Whether the sender's allowance has refilled (a new episode may be warned again)."""
        tokens, last = self._senders.get(sender, (self._burst, at))
        return tokens + max(0.0, at - last) * self._rate >= self._burst


class FailureAllowance:
    """How many failed signatures are tolerated: `rate` a second (up to `burst`) from one
    client, and `total_rate` (up to `total_burst`) from all clients together. Once either
    is spent, requests are refused before any work (HMAC over the body) is done for them;
    only failures spend it, so a client that signs correctly is never slowed by itself."""

    def __init__(
        self,
        rate: float = 5.0,
        burst: float = 20.0,
        total_rate: float = 50.0,
        total_burst: float = 100.0,
        clock: Callable[[], float] = time.monotonic,
        max_clients: int = 100_000,
    ) -> None:
        self._clients = TokenBuckets(rate, burst, max_clients, clock)
        self._total = TokenBucket(total_rate, total_burst, clock)

    def allows(self, client: str) -> bool:
        bucket = self._clients.get(client)
        return self._total.ready and (bucket is None or bucket.ready)

    def failed(self, client: str) -> None:
        self._clients[client].try_take()
        self._total.try_take()
