"""How observations become a Business's phase, conditions, events and index statistics."""

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest
import yaml

from business_operator.handlers.business import Context, read_index, transitions
from business_operator.render import Platform, Tenant
from business_operator.status import Check, Observation, business_status, phase
from katha.api import Business, BusinessPhase

OK = Check(True, "Fine", "fine")
UNKNOWN = Check(None, "Waiting", "waiting")
EXAMPLE = Path(__file__).resolve().parents[2] / "crds" / "examples" / "01-minimal-business.yaml"


def _observed(**changes: Any) -> Observation:
    values: dict[str, Any] = {"whatsapp": OK, "agent": OK, "knowledge": OK}
    values.update(changes)
    return Observation(**values)


@pytest.mark.parametrize(
    ("observed", "expected"),
    [
        (_observed(), BusinessPhase.READY),
        (_observed(knowledge=UNKNOWN), BusinessPhase.INDEXING),
        (_observed(agent=UNKNOWN, knowledge=UNKNOWN), BusinessPhase.PENDING),
        (_observed(agent=Check(False, "Crash", "crash")), BusinessPhase.DEGRADED),
        (_observed(whatsapp=Check(False, "SecretNotFound", "no")), BusinessPhase.DEGRADED),
        (_observed(model=Check(False, "ModelNotReady", "loading")), BusinessPhase.DEGRADED),
        (
            _observed(memory=Check(False, "PostgresSecretNotFound", "no"), agent=UNKNOWN),
            BusinessPhase.DEGRADED,
        ),
        (_observed(memory=Check(True, "PostgresConfigured", "pg")), BusinessPhase.READY),
        (_observed(suspended=True, agent=Check(False, "Suspended", "s")), BusinessPhase.SUSPENDED),
    ],
)
def test_phase_follows_the_worst_observation(
    observed: Observation, expected: BusinessPhase
) -> None:
    assert phase(observed) is expected


def test_ready_condition_names_the_first_blocker() -> None:
    observed = _observed(whatsapp=Check(False, "SecretNotFound", "create the Secret"))
    status = business_status(observed, generation=3, previous=None)
    ready = next(item for item in status["conditions"] if item["type"] == "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "SecretNotFound")
    assert ready["message"] == "create the Secret"
    assert ready["observedGeneration"] == 3
    assert status["observedGeneration"] == 3


def test_a_missing_postgres_secret_is_named_before_the_agent_that_waits_for_it() -> None:
    missing = Check(False, "PostgresSecretNotFound", "create Secret tenants/db with the key url")
    status = business_status(_observed(memory=missing, agent=UNKNOWN), 1, None)
    by_type = {item["type"]: item for item in status["conditions"]}
    assert (by_type["Ready"]["reason"], by_type["Ready"]["message"]) == (
        "PostgresSecretNotFound",
        "create Secret tenants/db with the key url",
    )
    assert by_type["MemoryConfigured"]["status"] == "False"
    assert "MemoryConfigured" not in {
        c["type"] for c in business_status(_observed(), 1, None)["conditions"]
    }


def test_transition_time_moves_only_when_the_status_changes() -> None:
    first = business_status(_observed(knowledge=UNKNOWN), 1, None)
    again = business_status(_observed(knowledge=UNKNOWN), 1, first)
    assert again["conditions"] == first["conditions"]
    assert transitions(first, again) == []
    ready = business_status(_observed(), 1, first)
    events = transitions(first, ready)
    assert ("Normal", "AllChecksPassed") in {(kind, reason) for kind, reason, _ in events}


class _Agent(BaseHTTPRequestHandler):
    stats: ClassVar[dict[str, Any]] = {}

    def do_GET(self) -> None:
        body = json.dumps(self.stats).encode()
        self.send_response(200 if self.path == "/v1/index" else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: Any) -> None:
        return


@pytest.fixture
def agent_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Agent)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def _tenant() -> Tenant:
    business = Business.model_validate(yaml.safe_load(EXAMPLE.read_text()))
    return Tenant("kandy-bakehouse", "tenants", "uid", business.spec, "deployment", Platform())


@pytest.mark.parametrize(
    ("stats", "ok", "reason"),
    [
        ({"state": "ready", "documents": 3, "chunks": 41, "indexVersion": 7}, True, "Indexed"),
        ({"state": "indexing", "message": "embedding 40 chunks"}, None, "Indexing"),
        ({"state": "failed", "message": "menu.pdf: 404"}, False, "IndexFailed"),
    ],
)
async def test_index_statistics_come_from_the_agent(
    agent_url: str, stats: dict[str, Any], ok: bool | None, reason: str
) -> None:
    _Agent.stats = stats
    async with httpx.AsyncClient() as http:
        context = Context(
            kube=None,  # type: ignore[arg-type]  # reading the index needs no API server
            routes=None,  # type: ignore[arg-type]
            platform=Platform(),
            http=http,
            agent_url=lambda _: agent_url,
        )
        check, report = await read_index(context, _tenant())
    assert (check.ok, check.reason) == (ok, reason)
    if ok:
        assert report == {"documents": 3, "chunks": 41, "indexVersion": 7}
        assert check.message == "41 chunks from 3 documents"


async def test_an_unreachable_agent_leaves_the_index_unknown() -> None:
    async with httpx.AsyncClient() as http:
        context = Context(None, None, Platform(), http, lambda _: "http://127.0.0.1:9")  # type: ignore[arg-type]
        check, report = await read_index(context, _tenant())
    assert (check.ok, check.reason, report) == (None, "IndexUnknown", {})


def test_timestamps_are_utc_rfc3339() -> None:
    status = business_status(_observed(), 1, None)
    stamp = status["conditions"][0]["lastTransitionTime"]
    assert datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
