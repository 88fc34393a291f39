"""LangSmith tracing: runs tagged with the tenant, phone numbers masked, on a loopback LangSmith.

The server speaks what the installed langsmith client uses: `GET /info`, then runs
posted as multipart to `POST /runs/multipart` (or JSON to `POST /runs/batch`).
"""

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import policy
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest
from fastapi.testclient import TestClient
from langchain_core.tracers.langchain import LangChainTracer
from langsmith.utils import get_env_var
from loopback_http import serve_http

from agent_runtime.api.app import create_app
from agent_runtime.tracing import mask_phone_numbers

from .conftest import BAKERY, AgentFactory, ask

API_KEY = "lsv2_pt_0123456789abcdef0123456789abcdef_0123456789"
PHONE_NUMBERS = ["+94 77 123 4567", "0771234567", "94771234567"]


@dataclass
class LangSmithServer:
    base: str = ""
    api_keys: list[str] = field(default_factory=list)
    bodies: list[bytes] = field(default_factory=list)
    runs: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> merged run

    def merge(self, run_id: str, part: str | None, value: Any) -> None:
        run = self.runs.setdefault(run_id, {})
        if part is None:
            run.update(value)
        else:
            run[part] = value


def multipart_runs(content_type: str, body: bytes) -> Iterator[tuple[str, str | None, Any]]:
    """(run id, part or None, value) for each part named `post.<id>[.<part>]` / `patch...`."""
    head = f"Content-Type: {content_type}\r\n\r\n".encode()
    message = BytesParser(policy=policy.HTTP).parsebytes(head + body)
    for item in message.iter_parts():
        name = str(item.get_param("name", header="content-disposition"))
        _, run_id, *part = name.split(".")
        payload = item.get_payload(decode=True)
        assert isinstance(payload, bytes)
        yield run_id, part[0] if part else None, json.loads(payload)


@pytest.fixture
def langsmith(monkeypatch: pytest.MonkeyPatch) -> Iterator[LangSmithServer]:
    state = LangSmithServer()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path != "/info":
                self._reply(404, {"detail": "not found"})
                return
            self._reply(200, {"version": "0.10.0", "batch_ingest_config": {}})

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.api_keys.append(self.headers.get("x-api-key", ""))
            state.bodies.append(body)
            if self.path == "/runs/multipart":
                for run_id, part, value in multipart_runs(self.headers["Content-Type"], body):
                    state.merge(run_id, part, value)
            elif self.path == "/runs/batch":
                batch = json.loads(body)
                for run in batch.get("post", []) + batch.get("patch", []):
                    state.merge(run["id"], None, run)
            else:
                self._reply(404, {"detail": "not found"})
                return
            self._reply(202, {})

        def _reply(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    with serve_http(Handler) as base:
        state.base = base
        monkeypatch.setenv("LANGSMITH_TRACING", "true")
        monkeypatch.setenv("LANGSMITH_ENDPOINT", base)
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
