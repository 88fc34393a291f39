"""Every conversation, as the owner console shows it: the router writes what happened
(a customer's message, the agent's reply, a handoff, the owner's own words, a template)
to the conversation store, off the path that answers Meta.

Writing never holds a reply back: events wait in memory and a background task writes them
in batches. A store that is down costs nothing but delay: the batch is kept and retried
with back-off, and every event carries an idempotency key (`event_id`), so a batch written
twice, or an event recorded again when its message is retried, is stored once. Up to
`max_pending` events wait; past that the oldest are dropped and counted (the customers are
still answered: the inbox, not the store, holds their messages). Events still waiting when
the router stops are written if the store answers within a few seconds, else lost and
logged.
"""

import asyncio
import contextlib
from collections import deque
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ValidationError

from katha.contracts.messages import AgentReply
from katha.contracts.routing import Route
from katha.observability import get_logger
from katha.store import ConversationStore, StoreEvent
from katha.store.events import (
    HANDLE_MAX,
    NAME_MAX,
    REASON_MAX,
    SHORT_MAX,
    SOURCE_MAX,
    SOURCES_MAX,
    TEXT_MAX,
)
from router.envelope import Envelope
from router.metrics import RouterMetrics

log = get_logger("router")

BATCH = 200
# How long the writer lets events gather once one arrives. Under load each message brings
# its events one by one, and a batch of one pays a whole transaction (four statements, each
# a hop to aiosqlite's thread or a round trip to PostgreSQL): at 60 replies a second that
# was a fifth of `katha up`'s router process. A customer's message reaches the console this
# much later; what a person does there is written at once (`write_now`).
LINGER_SECONDS = 0.05
MAX_BACKOFF_SECONDS = 30.0
CLOSE_SECONDS = 3.0
WRITE_NOW_SECONDS = 2.0


def now() -> datetime:
    return datetime.now(UTC)


class History:
    def __init__(
        self,
        store: ConversationStore | None,
        metrics: RouterMetrics,
        max_pending: int = 10_000,
    ) -> None:
        self._store = store
        self._metrics = metrics
        self._pending: deque[StoreEvent] = deque()
        self._max = max_pending
        self._wake = asyncio.Event()

    @property
    def enabled(self) -> bool:
        return self._store is not None

    @property
    def store(self) -> ConversationStore | None:
        """The conversation store it writes, for those that keep more beside a conversation
        (the customers' media); None without one."""
        return self._store

    async def forget_expired(self, routes: list[Route]) -> int:
        """Apply each Business's retention period to the store (nothing without a store)."""
        if self._store is None:
            return 0
        return await forget_expired(self._store, routes, now())

    def add(self, event: StoreEvent | None) -> None:
        """Queue `event` (never waits, never raises; None: nothing to keep)."""
        if self._store is None or event is None:
            return
        self._pending.append(event)
        while len(self._pending) > self._max:
            self._pending.popleft()
            self._metrics.history_writes.labels("dropped").inc()
        self._metrics.history_pending.set(len(self._pending))
        self._wake.set()

    async def write_now(self, event: StoreEvent | None) -> None:
        """Write `event` before returning (what a person just did in the console, whose
        page reads it back at once), within WRITE_NOW_SECONDS; when the store is slow or
        down it waits in the queue like any other event."""
        if self._store is None or event is None:
            return
        try:
            async with asyncio.timeout(WRITE_NOW_SECONDS):
                await self._store.record([event])
        except Exception as error:  # slow or down: the queue retries it
            log.warning("history.write_now_failed", reason=type(error).__name__)
            self.add(event)
            return
        self._metrics.history_writes.labels("written").inc()

    async def run(self) -> None:
        """Write what waits, in batches, until cancelled."""
        if self._store is None:
            return
        delay = 0.5
        while True:
            if not self._pending:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=1.0)
                continue
            if len(self._pending) < BATCH:
                await asyncio.sleep(LINGER_SECONDS)
            if await self._write_batch():
                delay = 0.5
            else:
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_BACKOFF_SECONDS)

    async def _write_batch(self) -> bool:
        if self._store is None:
            return True
        batch = [self._pending[i] for i in range(min(BATCH, len(self._pending)))]
        try:
            await self._store.record(batch)
        except Exception as error:  # the store is down or refused: keep them, try later
            self._metrics.history_writes.labels("failed").inc()
            pending = len(self._pending)
            log.warning("history.write_failed", reason=type(error).__name__, pending=pending)
            return False
        for event in batch:  # the oldest may have been dropped meanwhile
            if self._pending and self._pending[0] is event:
                self._pending.popleft()
        self._metrics.history_writes.labels("written").inc(len(batch))
        self._metrics.history_pending.set(len(self._pending))
        return True

    async def aclose(self) -> None:
        """Write what still waits (for CLOSE_SECONDS at most), then close the store."""
        if self._store is None:
            return
        try:
            async with asyncio.timeout(CLOSE_SECONDS):
                while self._pending and await self._write_batch():
                    pass
        except TimeoutError:
            pass
        if self._pending:
            log.error("history.not_written", events=len(self._pending))
        with contextlib.suppress(Exception):
            await self._store.close()


_LIMITS = {
    "text": TEXT_MAX,
    "handoff_reason": REASON_MAX,
    "customer_name": NAME_MAX,
    "customer_handle": HANDLE_MAX,
    "message_type": SHORT_MAX,
    "language": SHORT_MAX,
    "intent": SHORT_MAX,
}


def _event(**fields: Any) -> StoreEvent | None:
    """A StoreEvent with every text cut to what the store keeps; None (logged) for one
    the contract still refuses: keeping history must never stop a reply."""
    for name, limit in _LIMITS.items():
        value = fields.get(name)
        if isinstance(value, str) and len(value) > limit:
            fields[name] = value[:limit]
    fields["sources"] = [uri for uri in fields.get("sources", []) if len(uri) <= SOURCE_MAX][
        :SOURCES_MAX
    ]
    try:
        return StoreEvent(**fields)
    except ValidationError as error:
        log.warning(
            "history.event_refused", fields=sorted({str(e["loc"][0]) for e in error.errors()})
        )
        return None


def _received(envelope: Envelope) -> datetime:
    """When the router took the message: Meta's own times are whole seconds, and the
    thread must show a question before the answer given in the same second."""
    return datetime.fromtimestamp(envelope.received_at, UTC)


def _about(envelope: Envelope) -> dict[str, str]:
    return {"tenant": envelope.tenant, "conversation_id": envelope.conversation_id}


def customer_message(envelope: Envelope, language: str | None) -> StoreEvent | None:
    message, recipient = envelope.message, envelope.recipient
    return _event(
        event_id=f"in:{message.message_id}",
        at=_received(envelope),
        author="customer",
        text=message.text,
        message_type=message.type.value,
        language=language,
        customer_name=message.sender_name,
        customer_handle=recipient.wa_id or recipient.username,
        **_about(envelope),
    )


def agent_reply(envelope: Envelope, reply: AgentReply) -> StoreEvent | None:
    return _event(
        event_id=f"agent:{envelope.message_id}",
        at=now(),
        author="agent",
        text=reply.text,
        language=None if reply.language in ("", "unknown") else reply.language,
        intent=reply.intent,
        sources=[source.uri for source in reply.sources],
        **_about(envelope),
    )


def router_words(envelope: Envelope, key: str, text: str) -> StoreEvent | None:
    """What the router itself said (slow down, please type): the customer saw it."""
    return _event(
        event_id=f"router:{envelope.message_id}:{key}",
        at=now(),
        author="system",
        text=text,
        **_about(envelope),
    )


def owner_words(envelope: Envelope) -> StoreEvent | None:
    """What the owner typed in the WhatsApp Business app (coexistence)."""
    return _event(
        event_id=f"echo:{envelope.message_id}",
        at=_received(envelope),
        author="owner_app",
        text=envelope.message.text,
        message_type=envelope.message.type.value,
        **_about(envelope),
    )


def handoff_started(envelope: Envelope, until: float, reason: str | None) -> StoreEvent | None:
    return _event(
        event_id=f"handoff:{envelope.conversation_id}:{int(until)}",
        at=now(),
        author="system",
        kind="handoff_started",
        handoff_reason=reason,
        **_about(envelope),
    )


def handoff_released(
    tenant: str, conversation_id: str, until: float, *, by: str = "person"
) -> StoreEvent | None:
    """`by`: "person" (the owner or an admin released it), "system" (it timed out)."""
    return _event(
        event_id=f"released:{conversation_id}:{int(until)}",
        tenant=tenant,
        conversation_id=conversation_id,
        at=now(),
        author="person" if by == "person" else "system",
        kind="handoff_released",
    )


def template_sent(envelope: Envelope, purpose: str, name: str, language: str) -> StoreEvent | None:
    return _event(
        event_id=f"template:{envelope.message_id}:{purpose}",
        at=now(),
        author="system",
        kind="template",
        text=f"[{purpose}: template {name} ({language})]",
        language=language,
        **_about(envelope),
    )


async def forget_expired(store: ConversationStore, routes: list[Route], at: datetime) -> int:
    """Delete what each Business's retention period no longer allows (its route says how
    long); returns how many events went."""
    gone = 0
    for route in routes:
        cutoff = at - timedelta(days=route.retention_days)
        gone += await store.forget_before(route.tenant, cutoff)
    return gone
