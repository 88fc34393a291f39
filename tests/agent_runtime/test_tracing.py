"""LangSmith tracing: runs tagged with the tenant, phone numbers masked, on a loopback LangSmith.

The server is tests/support/peers/langsmith.py; it speaks what the installed langsmith
client uses.
"""

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from langchain_core.tracers.langchain import LangChainTracer
from langsmith.utils import get_env_var
from peers.langsmith import LangSmithServer

from agent_runtime.api.app import create_app
from agent_runtime.tracing import mask_phone_numbers

from .conftest import BAKERY, AgentFactory, ask

API_KEY = "lsv2_pt_0123456789abcdef0123456789abcdef_0123456789"
PHONE_NUMBERS = ["+94 77 123 4567", "0771234567", "94771234567"]


@pytest.fixture
def langsmith(monkeypatch: pytest.MonkeyPatch) -> Iterator[LangSmithServer]:
    with LangSmithServer().serve() as state:
        monkeypatch.setenv("LANGSMITH_TRACING", "true")
        monkeypatch.setenv("LANGSMITH_ENDPOINT", state.base)
        monkeypatch.setenv("LANGSMITH_API_KEY", API_KEY)
        monkeypatch.setenv("LANGSMITH_PROJECT", "katha-tenants")
        get_env_var.cache_clear()  # langsmith caches what it read from the environment
        yield state
    get_env_var.cache_clear()


def test_runs_are_tagged_with_the_tenant_and_carry_no_phone_number(
    make_agent: AgentFactory, langsmith: LangSmithServer
) -> None:
    agent = make_agent()
    assert isinstance(agent.tracer, LangChainTracer)
    with TestClient(create_app(agent)) as client:
        ask(client, f"Do you deliver? My number is {PHONE_NUMBERS[0]}", number=1)
        ask(client, f"call me on {PHONE_NUMBERS[1]} or {PHONE_NUMBERS[2]}", number=2)
    agent.tracer.wait_for_futures()
    agent.tracer.client.flush()

    roots = [run for run in langsmith.runs.values() if run.get("name") == "katha-agent"]
    assert len(roots) == 2
    nodes = {run["name"] for run in langsmith.runs.values()}
    assert {"analyze_query", "search_internal", "generate_response"} <= nodes
    for run in langsmith.runs.values():  # every run, nodes included, names the tenant
        assert f"tenant:{BAKERY}" in run["tags"]
        assert run["extra"]["metadata"]["tenant"] == BAKERY
        assert run["session_name"] == "katha-tenants"
    first = next(run for run in roots if "deliver" in json.dumps(run["inputs"]))
    assert "My number is <phone>" in first["inputs"]["message"]
    sent = b"".join(langsmith.bodies).decode()
    for number in PHONE_NUMBERS:
        assert number not in sent
    assert "1234567" not in sent
    assert langsmith.api_keys
    assert set(langsmith.api_keys) == {API_KEY}
    assert API_KEY not in sent


def test_without_the_environment_nothing_is_traced(
    make_agent: AgentFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("LANGSMITH_TRACING", "LANGSMITH_TRACING_V2", "LANGCHAIN_TRACING_V2"):
        monkeypatch.delenv(name, raising=False)
    get_env_var.cache_clear()
    assert make_agent().tracer is None


def test_phone_numbers_are_masked_and_prices_and_times_kept() -> None:
    assert mask_phone_numbers("call 077 123 4567 or +94771234567") == "call <phone> or <phone>"
    kept = "Rs. 1,250 at 6.30 am, order 4471"
    assert mask_phone_numbers(kept) == kept
