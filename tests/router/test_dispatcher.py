"""The dispatcher takes the next message as soon as a worker's slot frees, also when the
slot frees while a claim is waiting on the inbox (Redis answers over the network)."""

import asyncio
import contextlib
import time
from collections.abc import Callable, Collection
from types import SimpleNamespace

from router.dispatcher import Dispatcher

IDLE_SECONDS = 5.0  # an idle poll this long would show as a stall


class SlowInbox:
    """One tenant's queue; each claim waits a moment on "the network" before answering."""

    def __init__(self, waiting: int) -> None:
        self.waiting = [SimpleNamespace(tenant="t", message_id=f"m{n}") for n in range(waiting)]

    def on_dead_letter(self, listener: object) -> None:
        pass

    async def claim(
        self, limit: int, room: Callable[[str], int], exclude: Collection[str]
    ) -> list[SimpleNamespace]:
        skip = "t" in exclude  # decided before the round trip, as the real inboxes do
        await asyncio.sleep(0.02)
        if skip:
            return []
        taken = self.waiting[: min(limit, room("t"))]
        del self.waiting[: len(taken)]
        return taken


class Worker:
    def __init__(self, expected: int) -> None:
        self.started: dict[str, float] = {}
        self.expected = expected
        self.all_started = asyncio.Event()

    def dead_lettered(self, entry: object) -> None:
        pass

    async def aclose(self) -> None:
        pass

    async def handle(self, envelope: SimpleNamespace) -> None:
        self.started[envelope.message_id] = time.monotonic()
        if len(self.started) == self.expected:
            self.all_started.set()
        await asyncio.sleep(0.01)  # finishes while the dispatcher's next claim is waiting


async def _run() -> dict[str, float]:
    worker = Worker(expected=3)
    dispatcher = Dispatcher(
        SlowInbox(waiting=3),  # type: ignore[arg-type]
        worker,  # type: ignore[arg-type]
        tenant_concurrency=1,
        total_concurrency=8,
        idle_poll_seconds=IDLE_SECONDS,
    )
    started = time.monotonic()
    task = asyncio.create_task(dispatcher.run())
    try:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(worker.all_started.wait(), 3 * IDLE_SECONDS)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    return {key: value - started for key, value in worker.started.items()}


def test_a_slot_freed_during_a_claim_is_filled_without_an_idle_poll() -> None:
    started = asyncio.run(_run())
    assert sorted(started) == ["m0", "m1", "m2"]
    # Three messages one at a time, each claim a 20 ms round trip: well under a second,
    # where a lost wake-up waits the 5 s idle poll before each of the later two.
    assert max(started.values()) < 1.0, started
