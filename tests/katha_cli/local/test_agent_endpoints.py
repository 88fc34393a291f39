"""Where `katha up`'s router reaches each agent: the replica's own HTTP server while the
tenant's Serve application runs exactly one replica and that replica says it is healthy,
Serve's proxy otherwise; the routing table is written again only when that changed.
Serve's controller is played by a function (what it answers is Ray's own type, read
through `_replica_addresses`); the replicas are HTTP servers on loopback answering
`/-/healthz` as Serve's direct ingress does. tests/one_machine/test_follow.py runs it on a
real Ray: the router posts to the replica and follows it through a redeploy."""

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from peers.loopback import ServerThread
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from katha_cli.local import ray_agents
from katha_cli.local.endpoints import AgentEndpoints
from katha_cli.local.platform import LocalPlatform, UpOptions
from katha_cli.local.workspace import load_workspace

from .test_workspace import business

PROXY = "http://127.0.0.1:8123"


def replica(status: int) -> Starlette:
    """A replica's own server: 200 "success" when healthy, 503 "DRAINING" while stopping."""

    async def healthz(_: object) -> PlainTextResponse:
        return PlainTextResponse("success" if status == 200 else "DRAINING", status)

    return Starlette(routes=[Route("/-/healthz", healthz)])


@pytest.fixture
def healthy() -> Iterator[int]:
    server = ServerThread(replica(200)).start()
    yield server.port
    server.stop()


@pytest.fixture
def draining() -> Iterator[int]:
    server = ServerThread(replica(503)).start()
    yield server.port
    server.stop()


def shops(tmp_path: Path) -> Path:
    folder = tmp_path / "shops"
    business(folder, "tea", "100000000000001")
    business(folder, "rice", "100000000000002")
    return folder


def addresses(monkeypatch: pytest.MonkeyPatch, found: dict[str, list[tuple[str, int]]]) -> None:
    monkeypatch.setattr(ray_agents, "_replica_addresses", lambda: found)


def test_a_tenant_with_one_running_replica_is_reached_at_the_replica(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, healthy: int
) -> None:
    workspace = load_workspace(shops(tmp_path), tmp_path / "state")
    addresses(
        monkeypatch,
        {
            "demo.tea": [("127.0.0.1", healthy)],
            # Two replicas: the proxy balances them.
            "demo.rice": [("127.0.0.1", healthy), ("127.0.0.1", healthy)],
        },
    )
    assert ray_agents.agent_endpoints(workspace, PROXY) == {
        "demo/tea": f"http://127.0.0.1:{healthy}/demo/tea",
        "demo/rice": PROXY + "/demo/rice",
    }


def test_a_replica_that_crashed_or_is_draining_is_left_to_the_proxy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, draining: int
) -> None:
    """Serve's controller still lists a crashed replica until its next health check
    (10 s), and a replica being stopped until it is gone: the proxy holds their messages."""
    workspace = load_workspace(shops(tmp_path), tmp_path / "state")
    gone = ServerThread(replica(200)).start()
    gone.stop()
    addresses(
        monkeypatch,
        {"demo.tea": [("127.0.0.1", gone.port)], "demo.rice": [("127.0.0.1", draining)]},
    )
    assert ray_agents.agent_endpoints(workspace, PROXY) == {
        "demo/tea": PROXY + "/demo/tea",
        "demo/rice": PROXY + "/demo/rice",
    }


def test_without_a_running_replica_or_direct_ingress_the_proxy_takes_the_messages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace = load_workspace(shops(tmp_path), tmp_path / "state")
    proxy_only = {"demo/tea": PROXY + "/demo/tea", "demo/rice": PROXY + "/demo/rice"}
    # Serve names the proxy itself for an application whose replicas are all starting.
    addresses(monkeypatch, {"demo.tea": [("127.0.0.1", 8123)], "demo.rice": []})
    assert ray_agents.agent_endpoints(workspace, PROXY) == proxy_only
    addresses(monkeypatch, {})  # direct ingress off, or a Ray without the call
    assert ray_agents.agent_endpoints(workspace, PROXY) == proxy_only


def test_direct_ingress_off_asks_serve_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAY_SERVE_ENABLE_DIRECT_INGRESS", "0")
    assert ray_agents._replica_addresses() == {}


def test_the_routing_table_is_rewritten_only_when_an_endpoint_moved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, healthy: int
) -> None:
    state = tmp_path / "state"
    platform = LocalPlatform(UpOptions(directory=shops(tmp_path), state_dir=state), say=print)
    platform.workspace = load_workspace(platform.options.directory, state)
    platform.agents_url = PROXY
    watcher = AgentEndpoints(platform)
    routes = state / "routes.json"

    def written() -> dict[str, str]:
        document = json.loads(routes.read_text())
        return {route["tenant"]: route["endpoint"] for route in document["routes"]}

    successor = ServerThread(replica(200)).start()
    addresses(monkeypatch, {"demo.tea": [("127.0.0.1", healthy)]})
    assert watcher.refresh()
    assert written() == {
        "demo/tea": f"http://127.0.0.1:{healthy}/demo/tea",
        "demo/rice": PROXY + "/demo/rice",
    }
    before = routes.stat().st_mtime_ns
    assert not watcher.refresh()  # nothing moved: the router is not made to reload
    assert routes.stat().st_mtime_ns == before

    # The replica was replaced: the successor has another port, the proxy meanwhile.
    addresses(monkeypatch, {"demo.tea": []})
    assert watcher.refresh()
    assert written()["demo/tea"] == PROXY + "/demo/tea"
    addresses(monkeypatch, {"demo.tea": [("127.0.0.1", successor.port)]})
    assert watcher.refresh()
    moved = f"http://127.0.0.1:{successor.port}/demo/tea"
    assert written()["demo/tea"] == moved
    # A change of the Business (the follower's publish) keeps where the agents are.
    platform.publish(platform.workspace)
    assert written()["demo/tea"] == moved
    # The successor crashed, and Serve's controller still lists it: the watcher's client,
    # kept between looks, has a connection to it from the last look and finds it gone.
    successor.stop()
    assert watcher.refresh()
    assert written()["demo/tea"] == PROXY + "/demo/tea"
    watcher.stop()  # its client is closed; a look the follower asks for after that is none
    addresses(monkeypatch, {"demo.tea": [("127.0.0.1", healthy)]})  # a look would move it
    assert not watcher.refresh()
    assert written()["demo/tea"] == PROXY + "/demo/tea"
