"""The routing table comes from a file on one machine and from one watched Secret in a
cluster; the router is not ready until it has one, and a broken table never replaces a
good one. The watched Secret, under the chart's RBAC: test_routes_kubernetes.py."""

import base64
import json
import os
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest
from harness import RouterHarness, Tenant, wait_for, write_routes
from peers.graph_api import GraphApi
from peers.loopback import ServerThread
from peers.whatsapp_webhooks import notification, text
from ports import free_port

from router.app import create_app
from router.live_routes import FileRouteSource, LiveRoutes
from router.settings import RouterSettings


def test_the_router_is_not_ready_without_a_routing_table(
    tmp_path: Path, graph: GraphApi, tenants: dict[str, Tenant]
) -> None:
    routes = tmp_path / "routes.json"
    settings = RouterSettings(
        routes_file=routes,
        inbox_url=f"sqlite://{tmp_path / 'inbox.db'}",
        graph_api_url=graph.url,
        routes_poll_seconds=0.1,
    )
    server = ServerThread(create_app(settings)).start()
    try:
        ready = httpx.get(f"{server.url}/readyz")
        assert ready.status_code == 503
        assert ready.json()["routes"] is False
        write_routes(routes, list(tenants.values()))
        wait_for(lambda: httpx.get(f"{server.url}/readyz").status_code == 200, timeout=3)
    finally:
        server.stop()


def test_the_file_source_refuses_a_broken_table(tmp_path: Path, tenants: dict[str, Tenant]) -> None:
    routes = tmp_path / "routes.json"
    write_routes(routes, list(tenants.values()))
    live_routes = LiveRoutes()
    source = FileRouteSource(routes, live_routes)
    source.load()
    assert live_routes.route_for(tenants["alpha"].phone_number_id) is not None
    routes.write_text('{"routes": [{"phone_number_id": ')  # caught half-written
    source.load()
    assert live_routes.route_for(tenants["alpha"].phone_number_id) is not None
    assert len(live_routes.app_secrets) == 2


def test_the_file_source_sees_a_rewrite_of_the_same_length_within_one_clock_tick(
    tmp_path: Path, tenants: dict[str, Tenant]
) -> None:
    """`katha up` moves an agent's endpoint from one port to another of as many digits:
    the file keeps its length, and two writes can share a modification time."""
    routes = tmp_path / "routes.json"
    write_routes(routes, list(tenants.values()))
    live_routes = LiveRoutes()
    source = FileRouteSource(routes, live_routes)
    source.load()
    number = tenants["alpha"].phone_number_id
    first = live_routes.route_for(number)
    assert first is not None
    before = routes.stat()
    text = routes.read_text()
    moved = text.replace(first.endpoint, first.endpoint[:-1] + "X")
    assert len(moved) == len(text)
    written = routes.with_name("routes.json.tmp")
    written.write_text(moved)
    written.replace(routes)  # as katha_cli.local.state.write_private writes it
    os.utime(routes, ns=(before.st_atime_ns, before.st_mtime_ns))
    source.load()
    second = live_routes.route_for(number)
    assert second is not None
    assert second.endpoint == first.endpoint[:-1] + "X"


@pytest.mark.slow
def test_the_router_waits_for_an_unreachable_inbox_and_refuses_webhooks_meanwhile(
    tmp_path: Path, graph: GraphApi, tenants: dict[str, Tenant]
) -> None:
    """Redis not there yet: not ready, 503 to Meta (which retries), no crash; then ready."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is not installed: `apt-get install -y redis-server`")
    port = free_port()
    router = RouterHarness(tmp_path, f"redis://127.0.0.1:{port}/0", graph, list(tenants.values()))
    router.server.start()
    router.url = router.server.url
    redis_server: subprocess.Popen[bytes] | None = None
    try:
        assert httpx.get(f"{router.url}/readyz").status_code == 503
        alpha = tenants["alpha"]
        payload = notification(alpha.phone_number_id, [text("anyone?")])
        assert router.post(payload, alpha.app_secret).status_code == 503
        redis_server = subprocess.Popen(
            [
                shutil.which("redis-server") or "redis-server",
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(tmp_path),
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(lambda: httpx.get(f"{router.url}/readyz").status_code == 200, timeout=15)
        assert router.post(payload, alpha.app_secret).status_code == 200
        wait_for(lambda: graph.texts(), timeout=10, what="the reply once Redis is up")
    finally:
        router.server.stop()
        if redis_server is not None:
            redis_server.terminate()
            redis_server.wait(timeout=10)


def test_a_secret_with_one_key_per_tenant_is_read_whole(tenants: dict[str, Tenant]) -> None:
    # The operator writes route.<namespace>.<name>.json per Business; the router merges them.
    alpha, beta = tenants["alpha"], tenants["beta"]
    data = {
        f"route.tenants.{name}.json": base64.b64encode(json.dumps(t.route()).encode()).decode()
        for name, t in (("alpha", alpha), ("beta", beta))
    }
    live_routes = LiveRoutes()
    assert live_routes.replace_from_secret(data, "secret/katha-routes")
    assert live_routes.route_for(alpha.phone_number_id) is not None
    assert live_routes.route_for(beta.phone_number_id) is not None
    broken = {**data, "route.tenants.gamma.json": base64.b64encode(b"{}").decode()}
    assert live_routes.replace_from_secret(broken, "secret/katha-routes")
    # Only the broken entry is dropped (tests/router/test_route_conflicts.py).
    assert live_routes.route_for(alpha.phone_number_id) is not None
    assert live_routes.route_for(beta.phone_number_id) is not None
