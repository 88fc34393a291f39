"""In a cluster the routing table is one Secret that the router watches through the Kubernetes
API, as the chart's `katha-router` ServiceAccount: the emulator here enforces the RBAC the
chart renders, so the router must get by with reading that one Secret."""

import asyncio
import base64
import contextlib
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from chart_rbac import OPERATOR_TOKEN, ROUTER_TOKEN, chart_gate
from harness import Tenant, wait_for
from kube_api import PLATFORM_NAMESPACE, Api
from kube_emulator import KubeEmulator, running_emulator

from katha.contracts.routing import ROUTES_KEY
from router import routes_kubernetes
from router.live_routes import LiveRoutes
from router.routes_kubernetes import SecretRouteSource
from router.settings import RouterSettings

ROUTES_SECRET = "katha-routes"


@pytest.fixture
def kube() -> Iterator[KubeEmulator]:
    with running_emulator(kuberay=False, gate=chart_gate()) as (emulator, _):
        yield emulator


def routes_secret(tenants: list[Tenant]) -> dict[str, Any]:
    table = json.dumps({"routes": [tenant.route() for tenant in tenants]})
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {"name": ROUTES_SECRET, "namespace": PLATFORM_NAMESPACE},
        "data": {ROUTES_KEY: base64.b64encode(table.encode()).decode()},
    }


@contextlib.contextmanager
def watching(
    url: str, token_folder: Path, monkeypatch: pytest.MonkeyPatch, secret: str = ROUTES_SECRET
) -> Iterator[LiveRoutes]:
    """The router's in-cluster SecretRouteSource, signed in with the chart's `katha-router`
    ServiceAccount token (mounted where a pod has it), following `secret` from its own
    loop; yields the live routes it fills."""
    (token_folder / "token").write_text(ROUTER_TOKEN)
    monkeypatch.setattr(routes_kubernetes, "SERVICE_ACCOUNT", token_folder)
    settings = RouterSettings(
        kubernetes_api_url=url, namespace=PLATFORM_NAMESPACE, routes_secret=secret
    )
    live_routes = LiveRoutes()
    source = SecretRouteSource.in_cluster(settings, live_routes)
    loop = asyncio.new_event_loop()
    task = loop.create_task(source.run())

    def run() -> None:
        with contextlib.suppress(asyncio.CancelledError):
            loop.run_until_complete(task)
        loop.run_until_complete(source.aclose())
        loop.close()

    runner = threading.Thread(target=run, daemon=True)
    runner.start()
    try:
        yield live_routes
    finally:
        loop.call_soon_threadsafe(task.cancel)
        runner.join(timeout=5)


def _secret_watched(kube: KubeEmulator) -> bool:
    return f"/api/v1/namespaces/{PLATFORM_NAMESPACE}/secrets" in kube.open_watches()


@pytest.mark.slow
def test_the_secret_source_applies_changes_from_a_watch(
    kube: KubeEmulator, tenants: dict[str, Tenant], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    alpha, beta = tenants["alpha"], tenants["beta"]
    admin = Api(kube.http_url)
    admin.create(routes_secret([alpha]))
    with watching(kube.http_url, tmp_path, monkeypatch) as live_routes:
        wait_for(
            lambda: live_routes.route_for(alpha.phone_number_id), timeout=5, what="the first list"
        )
        assert live_routes.route_for(beta.phone_number_id) is None
        wait_for(lambda: _secret_watched(kube), timeout=5, what="the watch")
        # The operator rewrites the table with the rights the chart gives it.
        operator = Api(kube.http_url, token=OPERATOR_TOKEN)
        operator.patch("Secret", PLATFORM_NAMESPACE, ROUTES_SECRET, routes_secret([alpha, beta]))
        # The watch, not a poll, brings it: the source polls nothing.
        wait_for(lambda: live_routes.route_for(beta.phone_number_id), timeout=5, what="the change")
    assert kube.refusals == []


@pytest.mark.slow
def test_a_missing_secret_is_an_empty_ready_table_until_the_operator_creates_it(
    kube: KubeEmulator, tenants: dict[str, Tenant], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    alpha = tenants["alpha"]
    with watching(kube.http_url, tmp_path, monkeypatch) as live_routes:
        wait_for(lambda: live_routes.loaded, timeout=5, what="the first list")
        assert live_routes.route_for(alpha.phone_number_id) is None
        wait_for(lambda: _secret_watched(kube), timeout=5, what="the watch")
        Api(kube.http_url, token=OPERATOR_TOKEN).create(routes_secret([alpha]))
        wait_for(
            lambda: live_routes.route_for(alpha.phone_number_id), timeout=5, what="the creation"
        )
    assert kube.refusals == []


@pytest.mark.slow
def test_the_router_is_refused_any_secret_but_the_routing_table(
    kube: KubeEmulator, tenants: dict[str, Tenant], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = kube.http_url
    admin = Api(url)
    other = routes_secret([tenants["alpha"]])
    other["metadata"]["name"] = "someone-elses-table"
    admin.create(other)
    with watching(url, tmp_path, monkeypatch, secret="someone-elses-table") as live_routes:
        wait_for(lambda: kube.refusals, timeout=5, what="a refusal")
        assert not live_routes.loaded, "a table the router may not read was loaded"
    router = Api(url, token=ROUTER_TOKEN)
    listed = router.http.get(f"/api/v1/namespaces/{PLATFORM_NAMESPACE}/secrets")
    assert listed.status_code == 403
    assert listed.json()["reason"] == "Forbidden"
    assert "katha-router" in listed.json()["message"]
    assert router.http.get("/api/v1/namespaces/tenants/secrets/alpha-whatsapp").status_code == 403
    assert router.http.get("/api").status_code == 200, "discovery is open to every account"
    unknown = Api(url, token="not-a-token").http.get("/api")
    assert unknown.status_code == 401
