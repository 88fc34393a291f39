"""The router keeps every conversation in the conversation store (the owner console's
source), off the path that answers Meta: a store that is down delays the history, never a
reply, and nothing is written twice."""

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from harness import RouterHarness, Tenant, wait_for
from peers.graph_api import GraphApi
from peers.loopback import ServerThread
from peers.tenant_agent import Agent
from peers.whatsapp_webhooks import echo, echoes, notification, text

from katha.contracts.messages import AgentReply, InboundMessage
from katha.contracts.routing import Route
from katha.store import ConversationStore, StoredEvent, StoreEvent, upgrade
from router.history import History
from router.metrics import RouterMetrics

Agents = dict[str, tuple[Agent, ServerThread]]
CUSTOMER = "94770009999"
OWNER = "94771234567"
TENANT = "tenants/alpha"


def _store_url(tmp_path: Path, migrated: bool = True) -> str:
    url = f"sqlite:///{tmp_path / 'conversations.db'}"
    if migrated:
        upgrade(url)
    return url


def _read(url: str, call: Callable[[ConversationStore], Any]) -> Any:
    async def run() -> Any:
        store = ConversationStore.from_url(url)
        try:
            return await call(store)
        finally:
            await store.close()

    return asyncio.run(run())


def _threads(url: str) -> dict[str, list[StoredEvent]]:
    async def read(store: ConversationStore) -> dict[str, list[StoredEvent]]:
        summaries = await store.conversations(TENANT)
        return {s.conversation_id: await store.thread(TENANT, s.conversation_id) for s in summaries}

    result: dict[str, list[StoredEvent]] = _read(url, read)
    return result


def _handoff_once(message: InboundMessage) -> AgentReply:
    wants_person = "refund" in (message.text or "")
    return AgentReply(
        message_id=message.message_id,
        text="A person will help you." if wants_person else f"Yes: {message.text}",
        language="en",
        intent="complaint" if wants_person else "question",
        handoff=wants_person,
        handoff_reason="asked for a refund" if wants_person else None,
    )


def test_a_conversation_is_kept_whole_customer_agent_handoff_owner_and_release(
    start_router: Callable[..., RouterHarness],
    tmp_path: Path,
    graph: GraphApi,
    agents: Agents,
    tenants: dict[str, Tenant],
) -> None:
    tenants["alpha"].extra["owner_number"] = "+" + OWNER
    agents["alpha"][0].answer = _handoff_once
    url = _store_url(tmp_path)
    router = start_router(store_url=url)
    router.say("alpha", "Do you bake on Poya day?", sender=CUSTOMER)
    wait_for(lambda: graph.texts(), what="the first reply")  # the thread keeps time order
    router.say("alpha", "I want a refund", sender=CUSTOMER)
    wait_for(lambda: len([c for c in graph.texts() if c.to == CUSTOMER]) == 2, what="replies")
    alpha = router.tenants["alpha"]
    router.post(echoes(alpha.phone_number_id, [echo("Sorry! Refund done.", to=CUSTOMER)]),
                alpha.app_secret)  # fmt: skip

    def kept() -> list[tuple[str, str, str | None]]:
        threads = _threads(url)
        if len(threads) != 1:
            return []
        (thread,) = threads.values()
        return [(e.author, e.kind, e.text) for e in thread]

    expected = [
        ("customer", "message", "Do you bake on Poya day?"),
        ("agent", "message", "Yes: Do you bake on Poya day?"),
        ("customer", "message", "I want a refund"),
        ("agent", "message", "A person will help you."),
        ("system", "handoff_started", None),
        ("owner_app", "message", "Sorry! Refund done."),
    ]
    wait_for(lambda: kept() == expected, what=f"the whole conversation: {kept()}")
    (summary,) = _read(url, lambda store: store.conversations(TENANT))
    assert summary.with_person
    assert summary.customer_handle == CUSTOMER
    assert summary.customer_name == "Nimal"
    (_, thread), = _threads(url).items()  # fmt: skip
    assert thread[1].language == "en"
    assert thread[4].handoff_reason == "asked for a refund"


def test_a_store_that_is_down_delays_the_history_never_a_reply(
    start_router: Callable[..., RouterHarness], tmp_path: Path, graph: GraphApi
) -> None:
    url = _store_url(tmp_path, migrated=False)  # no tables yet: every write fails
    router = start_router(store_url=url)
    for n in range(3):
        router.say("alpha", f"question {n}", sender=CUSTOMER)
    wait_for(lambda: len(graph.texts()) == 3, what="every answer, store or not")
    wait_for(lambda: 'katha_router_history_writes_total{result="failed"}' in router.metrics(),
             what="a failed write")  # fmt: skip
    upgrade(url)  # the store is back
    wait_for(lambda: sum(len(t) for t in _threads(url).values()) == 6, timeout=40,
             what="the history, once the store answers")  # fmt: skip
    assert "katha_router_history_pending 0.0" in router.metrics()


def test_a_redelivered_webhook_is_kept_once(
    start_router: Callable[..., RouterHarness], tmp_path: Path, graph: GraphApi
) -> None:
    url = _store_url(tmp_path)
    router = start_router(store_url=url)
    alpha = router.tenants["alpha"]
    message = text("are you open?", sender=CUSTOMER)
    for _ in range(2):  # Meta did not see the first 200 and sent it again
        router.post(notification(alpha.phone_number_id, [message]), alpha.app_secret)
    wait_for(lambda: sum(len(t) for t in _threads(url).values()) == 2, what="the history")
    time.sleep(0.5)
    (thread,) = _threads(url).values()
    assert [e.author for e in thread] == ["customer", "agent"]


def test_without_a_store_the_router_keeps_nothing_and_says_nothing_of_it(
    harness: RouterHarness, graph: GraphApi
) -> None:
    harness.say("alpha", "hello", sender=CUSTOMER)
    wait_for(lambda: graph.texts(), what="the answer")
    assert "katha_router_history_writes_total{" not in harness.metrics()


def test_each_business_keeps_its_conversations_for_its_own_retention_period(
    tmp_path: Path, tenants: dict[str, Tenant]
) -> None:
    url = _store_url(tmp_path)
    now = datetime.now(UTC)

    def said(tenant: str, days_ago: float, n: int) -> StoreEvent:
        return StoreEvent(
            event_id=f"in:{tenant}:{n}", tenant=tenant, conversation_id=f"c-{n}",
            at=now - timedelta(days=days_ago), author="customer", text="hello",
        )  # fmt: skip

    events = [
        said("tenants/alpha", 10, 1),
        said("tenants/alpha", 1, 2),
        said("tenants/beta", 10, 3),
    ]
    routes = [
        Route.model_validate({**tenants["alpha"].route(), "retention_days": 7}),
        Route.model_validate({**tenants["beta"].route(), "retention_days": 30}),
    ]

    async def run() -> tuple[int, list[str], list[str]]:
        store = ConversationStore.from_url(url)
        history = History(store, RouterMetrics())
        try:
            await store.record(events)
            gone = await history.forget_expired(routes)
            alpha = [s.conversation_id for s in await store.conversations("tenants/alpha")]
            beta = [s.conversation_id for s in await store.conversations("tenants/beta")]
            return gone, alpha, beta
        finally:
            await history.aclose()

    assert asyncio.run(run()) == (1, ["c-2"], ["c-3"])


def test_events_arriving_one_by_one_under_load_are_written_in_few_batches(
    tmp_path: Path,
) -> None:
    """Sixty events, one every 2 ms as a busy router brings them: a transaction each cost
    a fifth of the router's process at 60 replies a second; they share a few batches,
    every one written."""
    url = _store_url(tmp_path)
    batches: list[int] = []
    start = datetime.now(UTC)

    def said(n: int) -> StoreEvent:
        at = start + timedelta(milliseconds=n)
        return StoreEvent(
            event_id=f"in:{n}", tenant=TENANT, conversation_id=f"c-{n % 7}", at=at,
            author="customer", text=f"q{n}",
        )  # fmt: skip

    async def run() -> list[StoredEvent]:
        store = ConversationStore.from_url(url)
        record, written = store.record, asyncio.Event()

        async def counted(batch: Sequence[StoreEvent]) -> int:
            stored = await record(batch)
            batches.append(len(batch))
            if sum(batches) >= 60:
                written.set()
            return stored

        store.record = counted  # type: ignore[method-assign]
        history = History(store, RouterMetrics())
        writer = asyncio.create_task(history.run())
        for n in range(60):
            history.add(said(n))
            await asyncio.sleep(0.002)
        await asyncio.wait_for(written.wait(), timeout=10)
        writer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await writer  # no store call left running when the loop closes
        await history.aclose()
        reopened = ConversationStore.from_url(url)
        try:
            summaries = await reopened.conversations(TENANT)
            return [e for s in summaries for e in await reopened.thread(TENANT, s.conversation_id)]
        finally:
            await reopened.close()

    stored = asyncio.run(run())
    assert len(batches) <= 10, batches
    assert sum(batches) == 60
    assert len(stored) == 60
