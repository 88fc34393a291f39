"""One tenant's broken or conflicting route never takes the others down: the router loads
every usable entry of the routing table, drops only the offending ones (logged with the
tenant's name, counted in a metric), and a freshly started replica serves the rest."""

import base64
import json
from pathlib import Path
from typing import Any

import httpx
from harness import FAST, RouterClient, Tenant, wait_for
from kube_api import PLATFORM_NAMESPACE, Api
from kube_emulator import running_emulator
from peers.graph_api import GraphApi
from peers.loopback import ServerThread
from peers.tenant_agent import Agent
from structlog.testing import capture_logs

from katha.observability import Metrics
from router.app import create_app
from router.live_routes import FileRouteSource, LiveRoutes
from router.settings import RouterSettings

FIRST_CLAIM = "2026-11-01T08:00:00Z"
LATER_CLAIM = "2026-12-01T08:00:00Z"


def _encoded(document: Any) -> str:
    return base64.b64encode(json.dumps(document).encode()).decode()


def _secret_data(*routes: dict[str, Any]) -> dict[str, str]:
    """The routes Secret's data as the operator writes it: one key per Business."""
    data = {}
    for route in routes:
        namespace, name = route["tenant"].split("/")
        data[f"route.{namespace}.{name}.json"] = _encoded(route)
    return data


def _dropped(logs: list[dict[str, Any]]) -> list[tuple[str | None, str]]:
    return sorted(
        (entry.get("tenant"), entry["reason"])
        for entry in logs
        if entry["event"] == "routes.entry_dropped"
    )


def test_a_number_claimed_twice_stays_with_the_first_claimant_and_every_other_tenant_loads(
    tenants: dict[str, Tenant],
) -> None:
    alpha, beta = tenants["alpha"], tenants["beta"]
    intruder = Tenant.named("intruder", alpha.phone_number_id, "http://127.0.0.1:9")
    data = _secret_data(
        {**alpha.route(), "claimed_at": FIRST_CLAIM},
        beta.route(),
        {**intruder.route(), "claimed_at": LATER_CLAIM},
    )
    live_routes = LiveRoutes()
    with capture_logs() as logs:
        live_routes.replace_from_secret(data, "secret/katha-routes")
    kept = live_routes.route_for(alpha.phone_number_id)
    assert kept is not None
    assert kept.tenant == "tenants/alpha"
    assert live_routes.route_for(beta.phone_number_id) is not None
    assert intruder.app_secret.encode() not in live_routes.app_secrets
    assert _dropped(logs) == [("tenants/intruder", "conflict")]
    detail = next(entry["detail"] for entry in logs if entry["event"] == "routes.entry_dropped")
    assert "tenants/alpha" in detail  # says who keeps the number
    assert alpha.app_secret not in repr(logs)
    assert intruder.access_token not in repr(logs)


def test_a_number_routed_twice_without_claim_times_drops_both_and_keeps_the_rest(
    tenants: dict[str, Tenant],
) -> None:
    # Nothing in the table says who was first, so neither is safe to pick.
    alpha, beta = tenants["alpha"], tenants["beta"]
    twin = Tenant.named("twin", alpha.phone_number_id, "http://127.0.0.1:9")
    live_routes = LiveRoutes()
    with capture_logs() as logs:
        live_routes.replace_from_secret(
            _secret_data(alpha.route(), beta.route(), twin.route()), "secret/katha-routes"
        )
    assert live_routes.route_for(alpha.phone_number_id) is None
    assert live_routes.route_for(beta.phone_number_id) is not None
    assert live_routes.loaded
    assert _dropped(logs) == [("tenants/alpha", "conflict"), ("tenants/twin", "conflict")]


def test_unreadable_entries_are_dropped_and_counted_while_the_rest_load(
    tenants: dict[str, Tenant],
) -> None:
    alpha, beta = tenants["alpha"], tenants["beta"]
    metrics = Metrics("router")
    live_routes = LiveRoutes()
    live_routes.count_into(metrics)
    broken = {
        **_secret_data(alpha.route(), beta.route()),
        "route.tenants.gamma.json": _encoded({"tenant": "tenants/gamma"}),
        "route.tenants.delta.json": "%% not base64 %%",
    }
    with capture_logs() as logs:
        live_routes.replace_from_secret(broken, "secret/katha-routes")
    assert live_routes.route_for(alpha.phone_number_id) is not None
    assert live_routes.route_for(beta.phone_number_id) is not None
    assert _dropped(logs) == [("tenants/delta", "invalid"), ("tenants/gamma", "invalid")]
    dropped = {"reason": "invalid"}
    assert metrics.registry.get_sample_value("katha_router_routes_dropped", dropped) == 2
    # Once the operator fixes the table, nothing is dropped any more.
    live_routes.replace_from_secret(
        _secret_data(alpha.route(), beta.route()), "secret/katha-routes"
    )
    assert metrics.registry.get_sample_value("katha_router_routes_dropped", dropped) == 0


def test_a_routes_file_with_one_bad_entry_loads_the_good_ones(
    tmp_path: Path, tenants: dict[str, Tenant]
) -> None:
    alpha, beta = tenants["alpha"], tenants["beta"]
    routes = tmp_path / "routes.json"
    bad = {**beta.route(), "phone_number_id": "not-a-number", "tenant": "tenants/gamma"}
    routes.write_text(json.dumps({"routes": [alpha.route(), bad, beta.route()]}))
    live_routes = LiveRoutes()
    with capture_logs() as logs:
        FileRouteSource(routes, live_routes).load()
    assert live_routes.route_for(alpha.phone_number_id) is not None
    assert live_routes.route_for(beta.phone_number_id) is not None
    assert _dropped(logs) == [("tenants/gamma", "invalid")]


def test_a_router_started_fresh_on_a_table_with_a_conflict_serves_every_other_tenant(
    sqlite_url: str, graph: GraphApi, tenants: dict[str, Tenant], servers: list[ServerThread]
) -> None:
    alpha, beta = tenants["alpha"], tenants["beta"]
    intruder_agent = Agent(name="intruder")
    intruder_server = ServerThread(intruder_agent.app()).start()
    servers.append(intruder_server)
    intruder = Tenant.named("intruder", alpha.phone_number_id, intruder_server.url)
    data = {
        **_secret_data(
            {**alpha.route(), "claimed_at": FIRST_CLAIM},
            beta.route(),
            {**intruder.route(), "claimed_at": LATER_CLAIM},
        ),
        "route.tenants.gamma.json": _encoded({"phone_number_id": beta.phone_number_id}),
    }
    with running_emulator(kuberay=False) as (_, kube_url):
        secret = {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "katha-routes", "namespace": PLATFORM_NAMESPACE},
            "data": data,
        }
        Api(kube_url).create(secret)
        settings = RouterSettings(
            kubernetes_api_url=kube_url,
            namespace=PLATFORM_NAMESPACE,
            inbox_url=sqlite_url,
            graph_api_url=graph.url,
            **FAST,
        )
        server = ServerThread(create_app(settings)).start()
        servers.append(server)
        wait_for(
            lambda: httpx.get(f"{server.url}/readyz").status_code == 200,
            timeout=10,
            what="a fresh router to load the table",
        )
        client = RouterClient()
        client.url, client.tenants = server.url, {"alpha": alpha, "beta": beta}
        client.say("beta", "Do you deliver?")
        client.say("alpha", "Open today?")
        wait_for(lambda: len(graph.texts()) >= 2, timeout=10, what="both replies")
        exposed = httpx.get(f"{server.url}/metrics").text
    assert 'katha_router_routes_dropped{reason="conflict"} 1.0' in exposed
    assert 'katha_router_routes_dropped{reason="invalid"} 1.0' in exposed
    answers = sorted(call.text or "" for call in graph.texts())
    assert answers == ["alpha answers: Open today?", "beta answers: Do you deliver?"]
    assert intruder_agent.received == []
