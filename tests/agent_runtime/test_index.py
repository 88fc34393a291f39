"""The index behind the agent: its stats, refresh without dropped requests, tenant isolation."""

import shutil
import threading
from pathlib import Path

from fastapi.testclient import TestClient

from agent_runtime.api.app import create_app
from agent_runtime.knowledge import REVISION_FILE

from .bakery import bakery_with_pizza_faq_spec, tea_shop_spec
from .conftest import BAKERY, TEA_SHOP, AgentFactory, ask, message


def test_the_index_reports_its_documents_chunks_and_version(client: TestClient) -> None:
    stats = client.get("/v1/index").json()
    assert stats["state"] == "ready"
    assert stats["chunks"] == 20  # 2 menu pages, 8 price rows, 10 FAQs
    assert stats["documents"] == 20
    assert stats["indexVersion"] >= 1
    assert stats["lastIndexed"].startswith("20")


def test_a_missing_index_is_built_at_startup_and_reported_as_indexing_meanwhile(
    make_agent: AgentFactory, index_root: Path
) -> None:
    shutil.rmtree(index_root / "tenants" / "mihiri")
    agent = make_agent(knowledge_revision="r1")
    with TestClient(create_app(agent)) as client:
        assert client.get("/v1/index").json()["state"] == "empty"
        assert client.get("/readyz").status_code == 503
        agent.start()
        assert client.get("/v1/index").json()["state"] in {"indexing", "ready"}
        assert agent.knowledge.wait(60) == "ready"
        assert client.get("/v1/index").json()["chunks"] == 20
        assert client.get("/readyz").status_code == 200
        assert ask(client, "What time do you open?")["sources"][0]["locator"] == "faq 1"
    assert (index_root / "tenants" / "mihiri" / REVISION_FILE).read_text() == "r1"


def test_a_new_knowledge_revision_triggers_a_refresh_and_the_same_one_does_not(
    make_agent: AgentFactory,
) -> None:
    agent = make_agent(knowledge_revision="r2")
    assert agent.knowledge.stale()
    agent.start()
    assert agent.knowledge.wait(60) == "ready"
    assert not make_agent(knowledge_revision="r2").knowledge.stale()


def test_a_refresh_during_traffic_never_fails_a_request(make_agent: AgentFactory) -> None:
    spec = bakery_with_pizza_faq_spec()
    agent = make_agent(spec=spec)
    before = agent.knowledge.stats().index_version
    failures: list[str] = []
    answered = 0
    stop = threading.Event()

    with TestClient(create_app(agent)) as client:

        def traffic() -> None:
            nonlocal answered
            number = 0
            while not stop.is_set():
                number += 1
                response = client.post(
                    "/v1/messages", json=message("What time do you open?", number=number)
                )
                if response.status_code != 200 or "6.30" not in response.json()["text"]:
                    failures.append(f"{response.status_code} {response.text[:200]}")
                answered += 1

        worker = threading.Thread(target=traffic)
        worker.start()
        assert client.post("/v1/index/refresh").status_code == 202
        state = agent.knowledge.wait(60)
        stop.set()
        worker.join()
        assert state == "ready"
        after = client.get("/v1/index").json()
        assert after["indexVersion"] > before
        assert after["chunks"] == 21
        pizza = ask(client, "Do you sell pizza?")
    assert failures == []
    assert answered > 0
    assert "only bake cakes" in pizza["text"]


def test_a_second_refresh_request_while_one_runs_is_not_started_twice(
    make_agent: AgentFactory,
) -> None:
    agent = make_agent(knowledge_revision="again")
    with TestClient(create_app(agent)) as client:
        first = client.post("/v1/index/refresh").json()
        second = client.post("/v1/index/refresh").json()
        agent.knowledge.wait(60)
    assert first["started"] is True
    assert second == {"started": False, "state": "indexing"}


def test_tenant_a_never_answers_with_tenant_bs_knowledge(make_agent: AgentFactory) -> None:
    with (
        TestClient(create_app(make_agent(BAKERY))) as bakery,
        TestClient(create_app(make_agent(TEA_SHOP, spec=tea_shop_spec()))) as tea_shop,
    ):
        for question in ["How much is 100 g of Uva tea?", "What teas do you sell?", "තේ කොළ කීයද?"]:
            reply = ask(bakery, question)
            assert "950" not in (reply["text"] or "")
            assert all("Uva" not in (source["title"] or "") for source in reply["sources"])
        tea = ask(tea_shop, "How much is 100 g of Uva tea?", tenant=TEA_SHOP)
        assert "950" in tea["text"]
        cake = ask(tea_shop, "How much is the butter cake?", tenant=TEA_SHOP)
        assert "2,600" not in (cake["text"] or "")


def test_a_message_for_another_tenant_is_refused(client: TestClient) -> None:
    response = client.post("/v1/messages", json=message("hi", tenant=TEA_SHOP))
    assert response.status_code == 409
    assert "tenants/mihiri" in response.json()["detail"]
