"""Web search when the knowledge is not enough: SearXNG's JSON API on loopback."""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from peers.web_search import SearxngServer, TavilyServer

from agent_runtime.api.app import create_app
from agent_runtime.websearch import SearxngSearch, TavilySearch, WebSearchError

from .bakery import bakery_spec
from .conftest import AgentFactory, ask

RESULTS = [
    {
        "url": "https://www.kandy.lk/hotels",
        "title": "Hotels in Kandy",
        "content": "Queen's Hotel faces the Temple of the Tooth across the Kandy lake.",
    },
    {"url": "javascript:alert(1)", "title": "junk", "content": "never cited"},
    {"url": "https://example.lk/2", "title": "Second", "content": "Second result."},
    {"url": "https://example.lk/3", "title": "Third", "content": "Third result."},
]


def web_spec(searxng: SearxngServer, **web: Any) -> dict[str, Any]:
    return bakery_spec(
        webSearch={"enabled": True, "provider": "searxng", "url": searxng.base, **web}
    )


def test_a_question_the_knowledge_misses_is_answered_from_the_web_with_its_source(
    make_agent: AgentFactory, searxng: SearxngServer
) -> None:
    searxng.results = RESULTS
    with TestClient(create_app(make_agent(spec=web_spec(searxng)))) as client:
        reply = ask(client, "Which hotels are near the Temple of the Tooth?")
    assert "Queen's Hotel faces the Temple of the Tooth" in reply["text"]
    assert "https://www.kandy.lk/hotels" in reply["text"]
    assert reply["sources"][0]["uri"] == "https://www.kandy.lk/hotels"
    assert not reply["handoff"]
    query = searxng.queries[-1]
    assert query["format"] == "json"
    assert query["language"] == "en-LK"  # Sri Lankan results


def test_the_web_is_not_asked_when_the_knowledge_answers(
    make_agent: AgentFactory, searxng: SearxngServer
) -> None:
    with TestClient(create_app(make_agent(spec=web_spec(searxng)))) as client:
        reply = ask(client, "What time do you open?")
    assert reply["sources"][0]["locator"] == "faq 1"
    assert searxng.queries == []


def test_web_search_is_off_by_default(make_agent: AgentFactory, searxng: SearxngServer) -> None:
    searxng.results = RESULTS
    with TestClient(create_app(make_agent())) as client:
        reply = ask(client, "Which hotels are near the Temple of the Tooth?")
    assert reply["handoff"] is True
    assert searxng.queries == []


def test_results_are_kept_within_the_budget_and_only_with_web_addresses(
    searxng: SearxngServer,
) -> None:
    searxng.results = RESULTS
    found = SearxngSearch(searxng.base, max_results=2).search("parking")
    assert [result.url for result in found] == [
        "https://www.kandy.lk/hotels",
        "https://example.lk/2",
    ]


def test_a_slow_search_engine_times_out_and_the_customer_is_handed_over(
    make_agent: AgentFactory, searxng: SearxngServer
) -> None:
    searxng.results, searxng.delay = RESULTS, 3.0
    with pytest.raises(WebSearchError):
        SearxngSearch(searxng.base, timeout_seconds=0.2).search("parking")
    agent = make_agent(spec=web_spec(searxng), settings={"web_search_timeout_seconds": 0.2})
    with TestClient(create_app(agent)) as client:
        reply = ask(client, "Which hotels are near the Temple of the Tooth?")
    assert reply["handoff"] is True


def test_tavily_is_asked_for_sri_lankan_results_with_its_key() -> None:
    with TavilyServer(results=[RESULTS[0] | {"score": 0.9}]).serve() as tavily:
        url = f"{tavily.base}/search"
        found = TavilySearch("tvly-test-key-123", max_results=2, url=url).search("q")
    assert [result.url for result in found] == ["https://www.kandy.lk/hotels"]
    authorization, body = tavily.seen[0]
    assert authorization == "Bearer tvly-test-key-123"
    assert body == {"query": "q", "max_results": 2, "country": "sri lanka"}
