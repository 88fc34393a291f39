"""The router's admin calls for one customer's data (the owner console's Customer data
page), with the Business's real agent (its own FastAPI app over a real LanceDB index and
SQLite memory) behind the real router: an export holds the router's and the agent's parts,
a deletion leaves nothing of the customer in the inbox or the agent and nothing of anyone
else gone, another Business's customer is not there, and an agent that is down makes the
deletion fail whole (503) so that the retry does it all."""

import sqlite3
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from harness import RouterHarness, Tenant, wait_for, write_routes
from peers.graph_api import GraphApi
from peers.loopback import ServerThread
from peers.tenant_agent import Agent as PeerAgent

from router.envelope import conversation_id

sys.path.insert(0, str(Path(__file__).parents[1] / "console" / "knowledge"))

from agent_behind import AUTH, embedder_fixture, router_fixture, shop_fixture  # noqa: F401 - fixtures
from shop import NAME, PHONE_NUMBER_ID, RunningAgent

GONE, KEPT, ELSEWHERE = "94770001111", "94770002222", "94770003333"
OTHER_NUMBER = "206065669065538"
QUESTION = "How much is a fish bun?"


@pytest.fixture
def tenants(shop: RunningAgent, agents: dict[str, tuple[PeerAgent, ServerThread]]) -> list[Tenant]:
    # The other Business only holds a customer in the router here; its agent is not asked.
    return [
        Tenant.named(NAME, PHONE_NUMBER_ID, shop.url),
        Tenant.named("beta", OTHER_NUMBER, agents["beta"][1].url),
    ]


def call(
    router: RouterHarness, method: str, tenant: str, conversation: str, tail: str = ""
) -> httpx.Response:
    path = f"/admin/tenants/{tenant}/customers/{conversation}{tail}"
    return httpx.request(method, f"{router.url}{path}", headers=AUTH, timeout=30)


def cid(router: RouterHarness, number_id: str, customer: str) -> str:
    return conversation_id(router.services.conversation_key, number_id, customer)


def answered(router: RouterHarness, graph: GraphApi, tenant: str, customer: str) -> None:
    router.say(tenant, QUESTION, sender=customer)
    wait_for(lambda: [c for c in graph.texts() if c.to == customer], what=f"{customer}'s answer")


def hits(path: Path, needle: str) -> int:
    with sqlite3.connect(path) as db:
        tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return sum(
            any(needle in _text(value) for value in row)
            for table in tables
            for row in db.execute(f'SELECT * FROM "{table}"')  # noqa: S608 - the file's tables
        )


def _text(value: object) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


@pytest.fixture
def customers(router: RouterHarness, graph: GraphApi) -> dict[str, str]:
    answered(router, graph, NAME, GONE)
    answered(router, graph, NAME, KEPT)
    answered(router, graph, "beta", ELSEWHERE)
    return {
        "gone": cid(router, PHONE_NUMBER_ID, GONE),
        "kept": cid(router, PHONE_NUMBER_ID, KEPT),
        "elsewhere": cid(router, OTHER_NUMBER, ELSEWHERE),
    }


def test_an_export_holds_what_the_router_and_the_agent_keep(
    router: RouterHarness, customers: dict[str, str]
) -> None:
    response = call(router, "GET", f"tenants/{NAME}", customers["gone"], "/export")
    assert response.status_code == 200, response.text
    exported: dict[str, Any] = response.json()
    assert exported["router"]["conversation"]["phone_number_id"] == PHONE_NUMBER_ID
    assert GONE in exported["router"]["records"][f"customer:{customers['gone']}"]
    turns = exported["agent"]["memory"]["history"]
    assert (turns[0]["role"], turns[0]["text"]) == ("customer", QUESTION)
    assert KEPT not in response.text
    assert ELSEWHERE not in response.text


def test_another_businesses_customer_is_not_found_and_not_touched(
    router: RouterHarness, customers: dict[str, str], shop: RunningAgent
) -> None:
    for method, tail in (("GET", "/export"), ("DELETE", "")):
        assert call(router, method, "tenants/beta", customers["gone"], tail).status_code == 404
        assert (
            call(router, method, f"tenants/{NAME}", customers["elsewhere"], tail).status_code == 404
        )
    assert call(router, "GET", "tenants/nobody", customers["gone"], "/export").status_code == 404
    exported = call(router, "GET", f"tenants/{NAME}", customers["gone"], "/export").json()
    assert exported["agent"]["memory"] is not None


def test_a_deleted_customer_is_gone_from_the_inbox_and_the_agent_and_no_one_else_is(
    router: RouterHarness, customers: dict[str, str], shop: RunningAgent, tmp_path: Path
) -> None:
    deleted = call(router, "DELETE", f"tenants/{NAME}", customers["gone"])
    assert deleted.status_code == 200, deleted.text
    counts = deleted.json()
    assert counts["router"]["messages"] >= 1
    assert counts["router"]["records"] >= 1
    assert counts["agent"]["checkpoints"] >= 1
    inbox = tmp_path / "inbox.db"
    state = shop.index_root.parent / "agent-state"
    memory = next(state.rglob("conversations.sqlite"))
    for needle in (customers["gone"], GONE):
        assert hits(inbox, needle) == 0, needle
        assert hits(memory, needle) == 0, needle
    for needle in (customers["kept"], customers["elsewhere"]):
        assert hits(inbox, needle) > 0, needle
    assert hits(memory, customers["kept"]) > 0
    # One agent, its state beside a local index: no other replica keeps any of it.
    assert counts["agent_state"] == {"memory": "shared", "unanswered": "shared"}
    again = call(router, "DELETE", f"tenants/{NAME}", customers["gone"]).json()
    assert again["router"] == {"messages": 0, "records": 0, "aliases": 0}
    assert again["agent"] == {"checkpoints": 0, "unanswered": 0}


def test_an_agent_that_is_down_leaves_the_router_part_whole_for_the_retry(
    router: RouterHarness, customers: dict[str, str], tenants: list[Tenant], shop: RunningAgent
) -> None:
    tenants[0].endpoint = "http://127.0.0.1:9"  # nothing listens: connection refused
    write_routes(router.routes_file, tenants)
    wait_for(
        lambda: router.services.routes.table.route_for(PHONE_NUMBER_ID).endpoint.endswith(":9"),  # type: ignore[union-attr]
        what="the new route",
    )
    down = call(router, "DELETE", f"tenants/{NAME}", customers["gone"])
    assert down.status_code == 503
    before = call(router, "GET", f"tenants/{NAME}", customers["gone"], "/export")
    assert before.status_code == 503  # the export needs the agent too
    tenants[0].endpoint = shop.url
    write_routes(router.routes_file, tenants)
    wait_for(
        lambda: (
            call(router, "GET", f"tenants/{NAME}", customers["gone"], "/export").status_code == 200
        ),
        what="the agent back",
    )
    exported = call(router, "GET", f"tenants/{NAME}", customers["gone"], "/export").json()
    assert exported["router"]["records"]  # nothing of the router's part went
    done = call(router, "DELETE", f"tenants/{NAME}", customers["gone"])
    assert done.status_code == 200
    assert done.json()["router"]["records"] >= 1


def test_an_id_not_of_the_routers_form_is_refused_and_nothing_of_anyone_goes(
    router: RouterHarness, customers: dict[str, str], tmp_path: Path
) -> None:
    gone = customers["gone"]
    # "c-" names every customer's records by prefix, of every Business; the others are a
    # real id cut short, lengthened, or in capitals.
    for wrong in ("c-", gone[:6], gone + "0", gone.upper(), gone[:-1] + "g"):
        for method, tail in (("DELETE", ""), ("GET", "/export")):
            answer = call(router, method, f"tenants/{NAME}", wrong, tail)
            assert answer.status_code == 422, (wrong, method)
    inbox = tmp_path / "inbox.db"
    for conversation in customers.values():
        assert hits(inbox, f"customer:{conversation}") == 1, conversation


def test_deleting_a_customer_leaves_another_businesses_customer_whose_id_it_begins(
    router: RouterHarness, customers: dict[str, str], tmp_path: Path
) -> None:
    gone, elsewhere = customers["gone"], customers["elsewhere"]
    # Another Business's customer known by a longer id that starts with this one's (the
    # router's ids are all one length; an older or hand-made record need not be).
    longer = gone + "ff"
    with sqlite3.connect(tmp_path / "inbox.db", timeout=10) as db:
        for name in ("customer:", "marketing-stopped:", "alias:"):
            db.execute(
                "INSERT INTO records (name, value) VALUES (?, ?)", (name + longer, elsewhere)
            )
    exported = call(router, "GET", f"tenants/{NAME}", gone, "/export").json()
    assert not [name for name in exported["router"]["records"] if longer in name]
    assert call(router, "DELETE", f"tenants/{NAME}", gone).status_code == 200
    for name in ("customer:", "marketing-stopped:", "alias:"):
        assert hits(tmp_path / "inbox.db", name + longer) == 1, name
