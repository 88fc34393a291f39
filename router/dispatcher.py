"""The Dispatcher hands inbox messages to Workers: at most one in flight per conversation
(the inbox's claim guarantees it), at most `tenant_concurrency` per tenant, so one busy
tenant cannot take every slot, and at most `total_concurrency` in all."""

import asyncio
import contextlib
from collections import Counter

from katha.observability import get_logger
from router.envelope import Envelope
from router.inbox.base import Inbox
from router.worker import Worker

log = get_logger("router")

MAX_CLAIM_BACKOFF_SECONDS = 1.0


def claim_backoff(idle_seconds: float, failures: int) -> float:
    """Seconds to wait after `failures` failed claims in a row: doubling from the idle
    poll, at most a second, so an outage costs little and recovery is noticed soon."""
    return float(min(MAX_CLAIM_BACKOFF_SECONDS, idle_seconds * 2 ** min(failures - 1, 20)))


class Dispatcher:
    def __init__(
        self,
        inbox: Inbox,
        worker: Worker,
        *,
        tenant_concurrency: int,
        total_concurrency: int,
        idle_poll_seconds: float,
    ) -> None:
        self._inbox = inbox
        self._worker = worker
        self._per_tenant = tenant_concurrency
        self._total = total_concurrency
        self._idle = idle_poll_seconds
        self._in_flight: Counter[str] = Counter()
        self._tasks: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()
        self._claim_failures = 0  # in a row; nonzero means accepted messages wait
        inbox.on_dead_letter(worker.dead_lettered)

    @property
    def worker(self) -> Worker:
        return self._worker

    @property
    def claims_failing(self) -> bool:
        """The last claim failed: accepted messages are not being answered (readiness)."""
        return self._claim_failures > 0

    def wake(self) -> None:
        """New work arrived (a webhook was accepted, a worker finished)."""
        self._wake.set()

    async def run(self) -> None:
        try:
            while True:
                # Cleared before the claim, not after: a worker that finishes while the
                # claim awaits the inbox (Redis) leaves its wake set, so the message its
                # tenant was too full to take is claimed at once, not an idle poll later.
                self._wake.clear()
                claimed = await self._claim_once()
                if not claimed:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), self._idle)
        finally:
            for task in list(self._tasks):
                task.cancel()
            if self._tasks:
                await asyncio.gather(*self._tasks, return_exceptions=True)
            await self._worker.aclose()

    async def _claim_once(self) -> int:
        free = self._total - sum(self._in_flight.values())
        if free <= 0:
            return 0
        full = {tenant for tenant, count in self._in_flight.items() if count >= self._per_tenant}
        try:
            batch = await self._inbox.claim(free, self._room, full)
        except Exception as error:  # the store is down or failing: keep trying, calmly
            self._claim_failures += 1
            if self._claim_failures == 1:
                log.exception("inbox.claim_failed")
            else:  # one traceback per outage, not one per poll
                log.warning(
                    "inbox.claim_failed", error=type(error).__name__, failures=self._claim_failures
                )
            await asyncio.sleep(claim_backoff(self._idle, self._claim_failures))
            return 0
        if self._claim_failures:
            log.info("inbox.claims_recovered", failures=self._claim_failures)
            self._claim_failures = 0
        for envelope in batch:
            self._start(envelope)
        return len(batch)

    def _room(self, tenant: str) -> int:
        return self._per_tenant - self._in_flight.get(tenant, 0)

    def _start(self, envelope: Envelope) -> None:
        self._in_flight[envelope.tenant] += 1
        task = asyncio.create_task(self._work(envelope))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _work(self, envelope: Envelope) -> None:
        try:
            await self._worker.handle(envelope)
        except Exception:
            # The inbox failed while recording the outcome; the message is still taken
            # and is delivered again (Redis: after the lease; SQLite: on restart).
            log.exception("message.unrecorded", message_id=envelope.message_id)
        finally:
            self._in_flight[envelope.tenant] -= 1
            if self._in_flight[envelope.tenant] <= 0:
                del self._in_flight[envelope.tenant]
            self._wake.set()
