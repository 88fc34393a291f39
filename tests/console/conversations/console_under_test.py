"""What the conversation and insights tests share: the console as it runs (the fixtures
`store_url`, `router_admin` and `console`, which each folder's conftest.py imports), the
real router behind it, and events as the router writes them.

The router is our own: it runs for real (tests/router/harness.py `RouterHarness`, a SQLite
inbox, the same conversation store the console reads). Only what lies outside the project
is played on loopback: Meta's Graph API (`GraphApi`, which records what reached each
phone) and each Business's agent endpoint (`peers.tenant_agent.Agent`: these tests need
no answers from it, only that the router has someone to ask)."""

import asyncio
import inspect
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import Response
from peers.graph_api import GraphApi, GraphCall
from peers.loopback import ServerThread
from peers.tenant_agent import Agent
from peers.whatsapp_webhooks import WABA_ID
from pydantic import SecretStr

from console.app import create_app
from console.auth.api_tokens import issue
from console.auth.principal import Role
from console.auth.sessions import SESSION_COOKIE, csrf_for, start_session
from console.router_client import RouterAdmin
from console.services import ConsoleServices
from console.settings import ConsoleSettings
from katha.store import ConversationStore, StoredEvent, StoreEvent, upgrade
from router.envelope import conversation_id
from router.inbox import open_inbox
from router.inbox.base import ConversationState, Inbox
from router.settings import RouterSettings

sys.path.insert(0, str(Path(__file__).parents[2] / "router"))

from harness import RouterHarness, Tenant

ALPHA, BETA = "shops/alpha", "shops/beta"
ADMIN_TOKEN = "console-admin-7c1e94b2d05a"
START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
CUSTOMER = "94770001111"  # writes to the Businesses over WhatsApp
NUMBERS = {ALPHA: "105954558954427", BETA: "206065669065538"}  # each Business's phone id


@dataclass
class Router:
    """The router under test and what stands outside the project around it."""

    harness: RouterHarness
    graph: GraphApi
    agents: dict[str, Agent]  # by tenant
    inbox_url: str
    servers: list[ServerThread]


@dataclass
class Console:
    """The running console and what a test needs around it."""

    url: str
    settings: ConsoleSettings
    store: ConversationStore  # the test's own connection: the router's side, and sign-ins
    router: RouterHarness  # the real router: `say` posts a customer's signed webhook
    router_server: ServerThread  # stop it to see the router down
    graph: GraphApi  # Meta's side: what reached each phone
    agents: dict[str, Agent]
    inbox_url: str  # the router's inbox, opened as another replica would (router_inbox)

    async def record(self, *events: StoreEvent) -> None:
        await self.store.record(list(events))

    def _services(self) -> ConsoleServices:
        admin = RouterAdmin.connect(self.router_url, ADMIN_TOKEN)
        return ConsoleServices(settings=self.settings, store=self.store, router=admin)

    @property
    def router_url(self) -> str:
        return self.settings.router_url

    async def sign_in(
        self, tenants: dict[str, Role], display: str = "Nimal", language: str | None = None
    ) -> httpx.AsyncClient:
        """A client holding a live session's cookie, sending its CSRF token."""
        services = self._services()
        try:
            token = await start_session(
                services, Response(), subject=f"test:{display}", display=display, tenants=tenants
            )
        finally:
            await services.router.aclose()
        cookies = {SESSION_COOKIE: token}
        if language is not None:
            cookies["lang"] = language
        headers = {"X-CSRF-Token": csrf_for(self.settings, token)}
        return httpx.AsyncClient(base_url=self.url, cookies=cookies, headers=headers)

    async def api_token(self, tenant: str) -> httpx.AsyncClient:
        """A client holding one of `tenant`'s API tokens (no cookie, no CSRF token)."""
        services = self._services()
        try:
            _, token = await issue(services, tenant, "crm", "test:owner")
        finally:
            await services.router.aclose()
        headers = {"Authorization": f"Bearer {token}"}
        return httpx.AsyncClient(base_url=self.url, headers=headers)

    def anonymous(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url)

    async def customer_writes(
        self, tenant: str, text: str, sender: str = CUSTOMER, **fields: Any
    ) -> str:
        """`sender` writes `text` to `tenant`'s number (a signed webhook, as Meta posts
        it; `fields` such as an old `timestamp` go into the message): the id the router
        gives the conversation, once the router has written it to the store."""
        name = tenant.split("/")[1]
        await asyncio.to_thread(self.router.say, name, text, sender=sender, **fields)
        key = self.router.services.conversation_key
        conversation = conversation_id(key, NUMBERS[tenant], sender)
        await eventually(lambda: self._has(tenant, conversation, text), f"{tenant}'s message")
        return conversation

    async def _has(self, tenant: str, conversation: str, text: str) -> bool:
        return any(event.text == text for event in await self.thread(tenant, conversation))

    async def thread(self, tenant: str, conversation: str) -> list[StoredEvent]:
        return await self.store.thread(tenant, conversation)

    async def with_person(self, tenant: str, conversation: str) -> bool:
        """Whether the store shows the conversation with a person (what the pages read)."""
        summaries = await self.store.conversations(tenant)
        found = [s for s in summaries if s.conversation_id == conversation]
        return bool(found) and found[0].with_person

    def texts_to(self, number: str) -> list[str]:
        """The words of each message that reached `number` on WhatsApp, in order."""
        return [call.text or "" for call in self.sent_to(number) if call.template is None]

    def sent_to(self, number: str) -> list[GraphCall]:
        return [call for call in self.graph.texts() if call.to == number]

    async def router_state(self, conversation: str) -> ConversationState:
        """The router's own memory of a conversation, read from its inbox."""
        async with router_inbox(self.inbox_url) as inbox:
            return await inbox.conversation(conversation)

    async def answered(self, tenant: str, text: str, sender: str = CUSTOMER) -> None:
        """Wait until the agent's answer to `text` reached `sender`: the router is done
        with that message, so nothing of it is still on its way to Meta."""
        answer = f"{tenant.split('/')[1]} answers: {text}"
        await eventually(lambda: answer in self.texts_to(sender), "the agent's answer")


class router_inbox:  # noqa: N801 - used as a function: `async with router_inbox(url)`
    """The router's inbox opened from the test, as another replica of the router opens
    it: its state is the router's own, not a copy."""

    def __init__(self, url: str) -> None:
        self.inbox = open_inbox(RouterSettings(inbox_url=url))

    async def __aenter__(self) -> Inbox:
        await self.inbox.open()
        return self.inbox

    async def __aexit__(self, *_: object) -> None:
        await self.inbox.close()


async def eventually(
    condition: Callable[[], Awaitable[bool] | bool], what: str, within: float = 10.0
) -> None:
    """Wait for `condition`: the router writes the store in batches, a moment after it
    has done something (this is no timing assertion: it only bounds a test that hangs)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not await _value(condition()):
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {within} s waiting for {what}")
        await asyncio.sleep(0.02)


async def _value(value: Awaitable[bool] | bool) -> bool:
    return await value if inspect.isawaitable(value) else value


def message(
    number: int,
    *,
    tenant: str = ALPHA,
    conversation: str = "c-1",
    author: str = "customer",
    **fields: Any,
) -> StoreEvent:
    """An event as the router records it: `number` makes its id, and its time `number`
    minutes after START."""
    values: dict[str, Any] = {
        "event_id": f"wamid.{tenant}.{number}",
        "tenant": tenant,
        "conversation_id": conversation,
        "at": START + timedelta(minutes=number),
        "author": author,
        "text": f"message {number}",
    }
    return StoreEvent(**(values | fields))


def business(tenant: str, endpoint: str) -> Tenant:
    """`tenant`'s route: its number, its agent, its WhatsApp Business Account."""
    named = Tenant.named(tenant.split("/")[1], NUMBERS[tenant], endpoint)
    named.extra.update(tenant=tenant, business_account_id=WABA_ID)
    return named


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    upgrade(url)
    return url


@pytest.fixture
def router_admin(tmp_path: Path, store_url: str) -> Iterator[Router]:
    """The router, writing the conversation store, with its admin API open to the console;
    everything it started stops at the end."""
    graph = GraphApi()
    servers = [ServerThread(graph.app()).start()]
    graph.url = f"{servers[0].url}/{graph.version}"
    agents = {tenant: Agent(name=tenant.split("/")[1]) for tenant in (ALPHA, BETA)}
    tenants = []
    for tenant, agent in agents.items():
        servers.append(ServerThread(agent.app()).start())
        tenants.append(business(tenant, servers[-1].url))
    inbox_url = f"sqlite://{tmp_path / 'inbox.db'}"
    harness = RouterHarness(
        tmp_path, inbox_url, graph, tenants, store_url=store_url, admin_token=ADMIN_TOKEN
    )
    servers.append(harness.__enter__().server)
    try:
        yield Router(harness, graph, agents, inbox_url, servers)
    finally:
        for server in servers:
            server.request_stop()
        for server in servers:
            server.stop()


@pytest.fixture
async def console(store_url: str, router_admin: Router) -> AsyncIterator[Console]:
    router = router_admin.harness
    settings = ConsoleSettings(
        store_url=SecretStr(store_url),
        router_url=router.url,
        router_admin_token=SecretStr(ADMIN_TOKEN),
        session_secret=SecretStr("console-tests-session-secret-5d8a1f"),
        secure_cookies=False,
    )
    server = ServerThread(create_app(settings)).start()
    store = ConversationStore.from_url(store_url)
    try:
        yield Console(
            server.url, settings, store, router, router.server,
            router_admin.graph, router_admin.agents, router_admin.inbox_url,
        )  # fmt: skip
    finally:
        await store.close()
        server.stop()
