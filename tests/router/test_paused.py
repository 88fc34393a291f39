"""A Business the owner paused (spec.paused, the route's `paused`): the router keeps every
customer message in the conversation store, unanswered for the owner, and nothing answers
it; the owner's own replies still reach the customer's thread and the agent's memory.
Un-pausing is a routing-table change only: the next message is answered at once.

The Business's agent is the shop's real one (agent_behind.py), watched as it is asked."""

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from agent_behind import embedder_fixture, shop_fixture  # noqa: F401 - fixtures
from harness import RouterHarness, Tenant, wait_for, write_routes
from peers.graph_api import GraphApi
from peers.whatsapp_webhooks import echo, echoes
from shop import NAME, PHONE_NUMBER_ID, TENANT, RunningAgent

from katha.contracts.messages import AgentReply, InboundMessage, OwnerNote
from katha.store import ConversationStore, StoredEvent, upgrade

CUSTOMER = "94770001234"
QUESTION = "What are your opening hours?"
ANSWER = "We are open every day from 6.30 am to 9 pm."  # the shop's FAQ, said by its agent


@dataclass
class Asked:
    """What the real agent was asked and told: its messages and the owner's notes."""

    messages: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@pytest.fixture
def asked(shop: RunningAgent) -> Asked:
    agent, seen = shop.agent, Asked()
    reply, keep_note = agent.reply, agent.keep_note

    def replying(message: InboundMessage) -> AgentReply:
        seen.messages.append(message.text or "")
        return reply(message)

    def keeping(note: OwnerNote) -> bool:
        seen.notes.append(note.text)
        return keep_note(note)

    agent.reply, agent.keep_note = replying, keeping  # type: ignore[method-assign]
    return seen


@pytest.fixture
def tenants(shop: RunningAgent) -> dict[str, Tenant]:
    return {NAME: Tenant.named(NAME, PHONE_NUMBER_ID, shop.url)}


def _thread(url: str) -> list[tuple[str, str, str | None]]:
    """The shop's one conversation, as (author, kind, text); empty until there is one."""

    async def read() -> list[StoredEvent]:
        store = ConversationStore.from_url(url)
        try:
            summaries = await store.conversations(TENANT)
            if len(summaries) != 1:
                return []
            return await store.thread(TENANT, summaries[0].conversation_id)
        finally:
            await store.close()

    return [(event.author, event.kind, event.text) for event in asyncio.run(read())]


def _store(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'conversations.db'}"
    upgrade(url)
    return url


def _unanswered(url: str) -> bool:
    async def read() -> bool:
        store = ConversationStore.from_url(url)
        try:
            (summary,) = await store.conversations(TENANT)
            return summary.unanswered
        finally:
            await store.close()

    return asyncio.run(read())


def _held(router: RouterHarness) -> str:
    return next(
        (line for line in router.metrics().splitlines() if line.startswith("katha_router_held")),
        "",
    )


def _paused(router: RouterHarness, tenant: Tenant) -> bool:
    route = router.services.routes.route_for(tenant.phone_number_id)
    assert route is not None
    return route.paused


@dataclass
class Paused:
    """The router with the shop paused, after a customer asked it something."""

    router: RouterHarness
    store_url: str
    shop: Tenant


@pytest.fixture
def paused(
    start_router: Callable[..., RouterHarness], tmp_path: Path, tenants: dict[str, Tenant]
) -> Paused:
    store_url = _store(tmp_path)
    shop = tenants[NAME]
    shop.extra["paused"] = True
    router = start_router(store_url=store_url)
    router.say(NAME, "Are you open on Poya day?", sender=CUSTOMER)
    wait_for(
        lambda: _thread(store_url) == [("customer", "message", "Are you open on Poya day?")],
        what="the customer's message in the store",
    )
    return Paused(router, store_url, shop)


def test_a_paused_business_keeps_messages_for_the_owner_and_answers_none(
    paused: Paused, graph: GraphApi, asked: Asked, tenants: dict[str, Tenant]
) -> None:
    router, store_url, shop = paused.router, paused.store_url, paused.shop
    assert _unanswered(store_url), "the console lists it as waiting for the owner"

    # Un-paused: only the routing table changes, and the next message is answered.
    shop.extra["paused"] = False
    write_routes(router.routes_file, list(tenants.values()))
    wait_for(lambda: not _paused(router, shop), what="the un-paused route")
    router.say(NAME, QUESTION, sender=CUSTOMER)
    wait_for(lambda: graph.texts(), timeout=60, what="the answer once un-paused")

    # The inbox answers a conversation's messages in order, so by now the paused one was
    # finished long ago: it never reached the agent, and only the later one was answered.
    assert asked.messages == [QUESTION]
    assert [(sent.to, sent.text) for sent in graph.texts()] == [(CUSTOMER, ANSWER)]
    held = _held(router)
    assert f'tenant="{TENANT}"' in held
    assert 'reason="paused"' in held
    assert held.endswith(" 1.0")
    expected = [
        ("customer", "message", "Are you open on Poya day?"),
        ("customer", "message", QUESTION),
        ("agent", "message", ANSWER),
    ]
    wait_for(lambda: _thread(store_url) == expected, what=f"the whole thread: {_thread(store_url)}")
    assert not _unanswered(store_url)


def test_the_owner_still_answers_a_paused_business_from_the_app(
    paused: Paused, graph: GraphApi, asked: Asked
) -> None:
    router, store_url, shop = paused.router, paused.store_url, paused.shop
    router.post(echoes(shop.phone_number_id, [echo("Yes, until noon.", to=CUSTOMER)]),
                shop.app_secret)  # fmt: skip
    expected = [
        ("customer", "message", "Are you open on Poya day?"),
        ("owner_app", "message", "Yes, until noon."),
        ("system", "handoff_started", None),  # the owner took the conversation over
    ]
    wait_for(
        lambda: _thread(store_url) == expected, what=f"the owner's reply: {_thread(store_url)}"
    )
    wait_for(lambda: asked.notes, what="the owner's words in the agent's memory")
    assert asked.notes == ["Yes, until noon."]
    assert asked.messages == []
    assert graph.texts() == []  # the owner's app sent the reply itself, not the router
