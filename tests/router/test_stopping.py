"""A router stops within Kubernetes' grace period whatever hangs: each step of stopping is
bounded, and what did not stop is named in the log (its messages are safe in the inbox)."""

import asyncio
import contextlib
from pathlib import Path

import httpx

from router.app import STOP_STEP_SECONDS, _stop
from router.inbox import open_inbox
from router.settings import RouterSettings


async def test_a_task_that_ignores_cancellation_does_not_hold_the_router(tmp_path: Path) -> None:
    inbox = open_inbox(RouterSettings(inbox_url=f"sqlite://{tmp_path / 'inbox.db'}"))
    await inbox.open()
    released = asyncio.Event()

    async def stubborn() -> None:  # a library that swallows CancelledError
        while not released.is_set():
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.sleep(0.05)

    held = asyncio.create_task(stubborn(), name="stubborn")
    polite = asyncio.create_task(asyncio.sleep(60), name="polite")
    await asyncio.sleep(0)  # both running, as the router's tasks are when it stops
    async with asyncio.timeout(STOP_STEP_SECONDS * 10):  # unbounded, this never returned
        await _stop([held, polite], [httpx.AsyncClient().aclose], inbox)
    assert polite.cancelled()
    assert not held.done()
    released.set()
    await held
