"""DuckDuckGo through the real ddgs package, against DuckDuckGo's HTML endpoint on loopback."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from peers.duckduckgo import HOST, DuckDuckGoServer, duckduckgo_server

from agent_runtime.api.app import create_app
from agent_runtime.websearch import DuckDuckGoSearch, WebSearchError, duckduckgo_region

from .bakery import bakery_spec
from .conftest import AgentFactory, ask

RESULTS = [
    (
        "Hotels in Kandy",
        "https://www.kandy.lk/hotels",
        "Queen's Hotel faces the Temple of the Tooth across the Kandy lake.",
    ),
    ("Kandy Esala Perahera", "https://example.lk/perahera", "The Perahera walks past the temple."),
    ("Temple of the Tooth", "https://example.lk/dalada", "Sri Dalada Maligawa in Kandy."),
]


@pytest.fixture
def duckduckgo(tmp_path: Path) -> Iterator[DuckDuckGoServer]:
    with duckduckgo_server(tmp_path) as server:
        yield server


def search(server: DuckDuckGoServer, **options: Any) -> DuckDuckGoSearch:
    return DuckDuckGoSearch(proxy=server.proxy, ca_file=server.ca_file, **options)


def test_ddgs_asks_duckduckgo_only_without_a_region_for_sri_lanka(
    duckduckgo: DuckDuckGoServer,
) -> None:
    duckduckgo.results = RESULTS
    found = search(duckduckgo, max_results=2).search("hotels near the temple in Kandy")
    # The only host asked is DuckDuckGo's HTML endpoint (ddgs's "auto" would ask others).
    assert duckduckgo.tunnels == [f"{HOST}:443"]
    assert duckduckgo.forms == [{"q": "hotels near the temple in Kandy", "l": "wt-wt", "b": ""}]
    assert len(found) == 2  # the budget
    assert found[0].url == "https://www.kandy.lk/hotels"  # the sponsored result is dropped
    assert found[0].title == "Hotels in Kandy"
    assert found[0].snippet.startswith("Queen's Hotel faces the Temple of the Tooth")
    assert all("duckduckgo.com/y.js" not in result.url for result in found)


def test_regions_duckduckgo_has_are_asked_for_and_sri_lanka_falls_back_to_none() -> None:
    assert duckduckgo_region("lk") == "wt-wt"  # DuckDuckGo's region list has no Sri Lanka
    assert duckduckgo_region("in") == "in-en"
    assert duckduckgo_region("gb") == "uk-en"


def test_a_region_duckduckgo_knows_goes_in_the_form(duckduckgo: DuckDuckGoServer) -> None:
    duckduckgo.results = RESULTS
    search(duckduckgo, region="in").search("Kandy temple")
    assert duckduckgo.forms[-1]["l"] == "in-en"


def test_a_question_the_knowledge_misses_is_answered_from_duckduckgo_with_its_source(
    make_agent: AgentFactory, duckduckgo: DuckDuckGoServer
) -> None:
    duckduckgo.results = RESULTS
    spec = bakery_spec(webSearch={"enabled": True, "provider": "duckduckgo"})
    settings = {"web_search_proxy": duckduckgo.proxy, "web_search_ca_file": duckduckgo.ca_file}
    with TestClient(create_app(make_agent(spec=spec, settings=settings))) as client:
        reply = ask(client, "Which hotels are near the Temple of the Tooth?")
    assert not reply["handoff"]
    assert "Queen's Hotel faces the Temple of the Tooth" in reply["text"]
    assert reply["sources"][0]["uri"] == "https://www.kandy.lk/hotels"
    assert duckduckgo.forms[-1]["q"] == "Which hotels are near the Temple of the Tooth?"


def test_a_rate_limited_duckduckgo_hands_the_customer_over(
    make_agent: AgentFactory, duckduckgo: DuckDuckGoServer
) -> None:
    duckduckgo.results, duckduckgo.status = RESULTS, 202
    with pytest.raises(WebSearchError):
        search(duckduckgo).search("Kandy temple")
    spec = bakery_spec(webSearch={"enabled": True, "provider": "duckduckgo"})
    settings = {"web_search_proxy": duckduckgo.proxy, "web_search_ca_file": duckduckgo.ca_file}
    with TestClient(create_app(make_agent(spec=spec, settings=settings))) as client:
        reply = ask(client, "Which hotels are near the Temple of the Tooth?")
    assert reply["handoff"] is True
    assert reply["sources"] == []


def test_a_slow_duckduckgo_times_out(duckduckgo: DuckDuckGoServer) -> None:
    duckduckgo.results, duckduckgo.delay = RESULTS, 3.0
    with pytest.raises(WebSearchError):
        search(duckduckgo, timeout_seconds=1.0).search("Kandy temple")


def test_a_certificate_nobody_trusts_is_refused(duckduckgo: DuckDuckGoServer) -> None:
    duckduckgo.results = RESULTS
    with pytest.raises(WebSearchError):
        DuckDuckGoSearch(proxy=duckduckgo.proxy).search("Kandy temple")  # system CAs only
    assert duckduckgo.tunnels == [f"{HOST}:443"]
    assert duckduckgo.forms == []  # TLS failed before the question was sent
