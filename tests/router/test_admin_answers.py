"""The router's admin calls for the Answers page, forwarded to the tenant's real agent on
a real LanceDB index: questions customers asked come back grouped, answered ones leave
the list, a trial question is answered and kept nowhere, an unrouted Business is 404, a
silent agent 503, and a refused body names its fields, never its text."""

import sys
from pathlib import Path

from harness import RouterHarness

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


def test_groups_come_back_and_answered_ones_leave(
    router: RouterHarness, shop: RunningAgent
) -> None:
    shop.customer_asks("pizza thiyenawada", "c-1")
    shop.customer_asks("පීසා තියෙනවද?", "c-2")
    shop.customer_asks("How much is a fish bun?", "c-3")  # in the FAQ: answered
    listed = call(router, "GET", f"{BASE}/unanswered/groups")
    assert listed.status_code == 200, listed.text
    groups = listed.json()["groups"]
    assert [g["count"] for g in groups] == [2]
    assert groups[0]["languages"] == {"si": 1, "singlish": 1}
    members = groups[0]["members"]
    wrong = [{**members[0], "hash": "0" * 16}]  # the same id, another question's text
    kept = call(router, "POST", f"{BASE}/unanswered/resolve", json={"questions": wrong})
    assert kept.json() == {"resolved": 0}
    resolved = call(router, "POST", f"{BASE}/unanswered/resolve", json={"questions": members})
    assert resolved.json() == {"resolved": 2}
    assert call(router, "GET", f"{BASE}/unanswered/groups").json()["groups"] == []


def test_a_trial_is_answered_with_sources_and_kept_nowhere(
    router: RouterHarness, shop: RunningAgent
) -> None:
    tried = call(router, "POST", f"{BASE}/try", json={"text": "How much is a fish bun?"})
    assert tried.status_code == 200, tried.text
    answer = tried.json()
    assert "120" in answer["text"]
    assert answer["sources"]
    assert answer["handoff"] is False
    missed = call(router, "POST", f"{BASE}/try", json={"text": "Do you sell pizza?"}).json()
    assert missed["confidence"] == 0.0  # not known (the shop hands nothing over): unanswered
    assert call(router, "GET", f"{BASE}/unanswered/groups").json()["groups"] == []
    assert list(shop.agent.saver.list(None)) == []


def test_a_refused_body_names_the_field_never_the_text(router: RouterHarness) -> None:
    secret = "my number is 0771234567 " * 200
    refused = call(router, "POST", f"{BASE}/try", json={"text": secret})
    assert refused.status_code == 422
    assert refused.json() == {"detail": "invalid: text"}
    empty = call(router, "POST", f"{BASE}/unanswered/resolve", json={"questions": []})
    assert empty.status_code == 422


def test_who_may_call_and_which_business(router: RouterHarness, shop: RunningAgent) -> None:
    assert call(router, "GET", f"{BASE}/unanswered/groups", headers={}).status_code == 401
    other = call(router, "GET", "/admin/tenants/tenants/someone-else/unanswered/groups")
    assert other.status_code == 404
    assert (
        call(router, "POST", "/admin/tenants/Bad_NS/x/try", json={"text": "hi"}).status_code == 422
    )


def test_an_agent_that_does_not_answer_is_503(router: RouterHarness, shop: RunningAgent) -> None:
    shop.server.stop()
    assert call(router, "GET", f"{BASE}/unanswered/groups").status_code == 503
    assert call(router, "POST", f"{BASE}/try", json={"text": "hello"}).status_code == 503
