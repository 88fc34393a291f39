"""The live list: server-sent events announcing each of a Business's conversations that
changed, polled from the store (no store change, no message bus: every replica can serve
any owner).

Each poll reads the newest conversations that fit the page's filters (in the store query,
so a filter that few fit still finds them) and sends those that are new or differ from what
this stream last sent (a new message, a handoff, an answer), so a change is announced even
when two conversations share the same last time; one that left the window (it no longer
fits, or newer ones pushed it out, as they push it off the page) is sent as `removed`. A
comment line every 15 s keeps proxies from closing a quiet stream, and the stream stops when
the client goes. A principal holds at most STREAMS_PER_PRINCIPAL streams on a replica.
"""

import asyncio
import json
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.exc import SQLAlchemyError

from katha.observability import get_logger
from katha.store import ConversationStore, ConversationSummary

log = get_logger("console")

POLL_SECONDS = 1.0
HEARTBEAT_SECONDS = 15.0
WINDOW = 50  # the newest conversations each poll compares
RECHECK_SECONDS = 60.0  # how often a stream checks that its sign-in still holds
STREAMS_PER_PRINCIPAL = 5  # a few tabs and phones; not a pile of polls on the store


@dataclass(frozen=True)
class Filters:
    """The list page's filters, applied by the store to every poll."""

    with_person: bool | None = None
    unanswered: bool | None = None
    language: str | None = None


@dataclass
class StreamSlots:
    """Open streams per principal on this replica (`app.state.stream_slots`)."""

    open: Counter[str] = field(default_factory=Counter)
    most: int = STREAMS_PER_PRINCIPAL

    def take(self, subject: str) -> Callable[[], None] | None:
        """A slot for `subject`, or None when it holds `most` already; the slot's release,
        which may be called more than once (only the first counts)."""
        if self.open[subject] >= self.most:
            return None
        self.open[subject] += 1
        released = False

        def release() -> None:
            nonlocal released
            if not released:
                released = True
                self.open[subject] -= 1
                if self.open[subject] <= 0:
                    del self.open[subject]

        return release


def removed_event(conversation_id: str) -> str:
    """`event: removed`: the conversation left the window (the page drops its row)."""
    return f"event: removed\ndata: {json.dumps({'conversation_id': conversation_id})}\n\n"


def conversation_event(summary: ConversationSummary) -> str:
    """One SSE message: `event: conversation` with the summary as JSON (JSON has no line
    breaks of its own: a customer's newline is escaped inside its string)."""
    return f"event: conversation\ndata: {summary.model_dump_json()}\n\n"


class StreamEnd:
    """Whether a stream should stop: its client went, or its sign-in no longer holds (a
    session signed out or expired, a Business taken away: checked every `recheck_seconds`,
    so an open stream never outlives its session by more than that)."""

    def __init__(
        self,
        client_gone: Callable[[], Awaitable[bool]],
        allowed: Callable[[], Awaitable[bool]],
        recheck_seconds: float = RECHECK_SECONDS,
    ) -> None:
        self._client_gone = client_gone
        self._allowed = allowed
        self._recheck = recheck_seconds
        self._checked = time.monotonic()

    async def __call__(self) -> bool:
        if await self._client_gone():
            return True
        if time.monotonic() - self._checked < self._recheck:
            return False
        self._checked = time.monotonic()
        return not await self._allowed()


class ChangeTracker:
    """What this stream has already told its client, and what it has not."""

    def __init__(self, since: datetime | None) -> None:
        self._known: dict[str, ConversationSummary] = {}
        self._since = since
        self._started = False

    def changed(self, newest: list[ConversationSummary]) -> list[ConversationSummary]:
        """The summaries to send, oldest first (the client inserts each at the top)."""
        if not self._started:
            self._started = True
            fresh = [row for row in newest if self._since is not None and row.last_at > self._since]
        else:
            fresh = [row for row in newest if self._known.get(row.conversation_id) != row]
        self._known = {row.conversation_id: row for row in newest}
        return sorted(fresh, key=lambda row: (row.last_at, row.conversation_id))

    def events(self, newest: list[ConversationSummary]) -> list[str]:
        """What to send for this poll: the removed first, then the changed."""
        before = set(self._known)
        changed = self.changed(newest)
        gone = sorted(before - set(self._known))
        return [removed_event(ident) for ident in gone] + [
            conversation_event(row) for row in changed
        ]


async def conversation_stream(
    store: ConversationStore,
    tenant: str,
    disconnected: Callable[[], Awaitable[bool]],
    since: datetime | None = None,
    poll_seconds: float = POLL_SECONDS,
    heartbeat_seconds: float = HEARTBEAT_SECONDS,
    filters: Filters = Filters(),
) -> AsyncIterator[str]:
    """The stream's text. The first poll happens before anything is sent, so whatever
    changes after the client sees the stream open is announced; `since` (the newest time
    the client already shows) also catches what changed between rendering and connecting."""
    tracker = ChangeTracker(since)
    loop = asyncio.get_running_loop()
    newest = await _newest(store, tenant, filters)
    events = tracker.events(newest) if newest is not None else []
    yield "retry: 3000\n\n"  # how long a browser waits before it reconnects
    quiet_since = loop.time()
    while True:
        for event in events:
            quiet_since = loop.time()
            yield event
        if loop.time() - quiet_since >= heartbeat_seconds:
            quiet_since = loop.time()
            yield ": heartbeat\n\n"
        await asyncio.sleep(poll_seconds)
        if await disconnected():
            return
        newest = await _newest(store, tenant, filters)
        events = tracker.events(newest) if newest is not None else []


async def _newest(
    store: ConversationStore, tenant: str, filters: Filters
) -> list[ConversationSummary] | None:
    """The newest conversations that fit; None when the store did not answer (the stream
    goes on)."""
    try:
        return await store.conversations(
            tenant,
            with_person=filters.with_person,
            unanswered=filters.unanswered,
            language=filters.language,
            limit=WINDOW,
        )
    except (SQLAlchemyError, OSError) as error:
        log.warning("live.poll_failed", error=type(error).__name__)
        return None
