"""The router's admin calls for a Business's documents (the owner console's Knowledge
page), forwarded to the tenant's real agent serving a real LanceDB index: uploads reach the
document store beside the index, the agent's refusals come back with their codes (never
the file), an unrouted Business is 404, a silent agent 503, and the body is bounded."""

import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from harness import RouterHarness

from router.api import admin_documents

sys.path.insert(0, str(Path(__file__).parents[1] / "console" / "knowledge"))

from agent_behind import (  # noqa: F401 - fixtures
    AUTH,
    BASE,
    call,
    embedder_fixture,
    router_fixture,
    shop_fixture,
    tenants_fixture,
)
from shop import RunningAgent

AGENT_OPTIONS = {"max_upload_bytes": 4096}
SINHALA = "අලුත් මිල.txt"


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
