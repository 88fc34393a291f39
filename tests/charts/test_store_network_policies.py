"""The conversation store's NetworkPolicies, evaluated as an enforcing CNI would: PostgreSQL
is reached by the router, the owner console and the migration Job of this release and nobody
else (besides CloudNativePG's own operator and instances), and the migration Job reaches only
DNS and the store. With the store on, every call edge of DESIGN.md still passes and nothing
else does."""

from collections.abc import Callable
from typing import Any

import pytest
from call_edges import CLUSTER_PUBLIC_RANGE, IMPLIED, MUST_REFUSE, ROWS, World, build_world
from katha_chart import NAMESPACE, Manifest, operator_platform
from netpol import Cluster, Endpoint, Pod

RenderWith = Callable[[dict[str, Any]], list[Manifest]]
NETWORK = {"enabled": True, "clusterCIDRs": [CLUSTER_PUBLIC_RANGE]}
CNPG_VALUES: dict[str, Any] = {
    "store": {"enabled": True, "cloudNativePG": {"enabled": True, "instances": 2}},
    "networkPolicy": NETWORK,
}
CLIENTS = {"router", "console", "store-migrations"}  # the store's callers in this release
# As CloudNativePG labels an instance's pod, and as its Helm chart labels the operator.
INSTANCE_LABELS = {
    "cnpg.io/cluster": "katha-store",
    "cnpg.io/podRole": "instance",
    "app.kubernetes.io/name": "postgresql",
    "app.kubernetes.io/managed-by": "cloudnative-pg",
}
CNPG_PORTS = {"postgresql": 5432, "status": 8000, "metrics": 9187}
OPERATOR_LABELS = {"app.kubernetes.io/name": "cloudnative-pg", "app.kubernetes.io/instance": "cnpg"}


def with_store(world: World) -> World:
    """The installation plus what CloudNativePG runs: two instances and its operator."""
    primary = Pod(
        "katha-store-1",
        NAMESPACE,
        {**INSTANCE_LABELS, "cnpg.io/instanceName": "katha-store-1", "role": "primary"},
        "10.244.210.1",
        CNPG_PORTS,
    )
    replica = Pod(
        "katha-store-2",
        NAMESPACE,
        {**INSTANCE_LABELS, "cnpg.io/instanceName": "katha-store-2", "role": "replica"},
        "10.244.210.2",
        CNPG_PORTS,
    )
    operator = Pod("cnpg-controller-manager", "cnpg-system", OPERATOR_LABELS, "10.244.210.3")
    # A pod that copies the operator's labels in a tenants' namespace: no operator.
    impostor = Pod("impostor", "tenants", OPERATOR_LABELS, "10.244.210.4")
    roles: dict[str, list[Endpoint]] = {
        **world.roles,
        "store": [primary],
        "store-replica": [replica],
        "cnpg-operator": [operator],
        "cnpg-impostor": [impostor],
    }
    namespaces = {**world.cluster.namespaces, "cnpg-system": {}}
    return World(Cluster.of(namespaces, world.cluster.policies), roles)


@pytest.fixture
def cnpg_installation(render_with: RenderWith, monkeypatch: pytest.MonkeyPatch) -> World:
    chart = render_with(CNPG_VALUES)
    return with_store(build_world(operator_platform(chart, monkeypatch), chart))


def sources_allowed(world: World, target: Endpoint, port: int) -> set[str]:
    """Every role with an endpoint that may open `port` on `target` (CIDRs matching pods:
    the stricter reading for a must-refuse check)."""
    return {
        role
        for role, endpoints in world.roles.items()
        for source in endpoints
        if source is not target
        and world.cluster.allows(source, target, port, cidrs_match_pods=True)
    }


def test_only_the_router_the_console_and_the_migration_job_reach_the_store(
    cnpg_installation: World,
) -> None:
    (store,) = cnpg_installation.endpoints("store")
    assert isinstance(store, Pod)
    assert cnpg_installation.cluster.isolating(store, "Ingress")
    # CloudNativePG's operator and the other instance (replication) besides; the intruder,
    # agents, operator, Prometheus never.
    assert sources_allowed(cnpg_installation, store, 5432) == {
        *CLIENTS,
        "store-replica",
        "cnpg-operator",
    }
    # The instance manager's port is CloudNativePG's own.
    assert sources_allowed(cnpg_installation, store, 8000) == {"store-replica", "cnpg-operator"}
    assert sources_allowed(cnpg_installation, store, 9187) == set()


def test_the_stores_callers_reach_it_without_a_cidr_rule(
    cnpg_installation: World,
) -> None:
    """On a CNI whose ipBlocks never match pods, the callers pass too (by their labels)."""
    for role in CLIENTS:
        for source in cnpg_installation.endpoints(role):
            for target in [
                *cnpg_installation.endpoints("store"),
                *cnpg_installation.endpoints("store-replica"),
            ]:
                assert cnpg_installation.cluster.allows(source, target, 5432), (role, target.name)


def test_the_migration_job_reaches_only_dns_and_the_store(cnpg_installation: World) -> None:
    world = cnpg_installation
    (job,) = world.endpoints("store-migrations")
    assert isinstance(job, Pod)
    assert world.cluster.isolating(job, "Egress")
    assert world.cluster.isolating(job, "Ingress")
    allowed = [
        (role, port, protocol)
        for role in ("kube-dns", "store", "store-replica")
        for port, protocol in ((53, "UDP"), (53, "TCP"), (5432, "TCP"))
        for target in world.endpoints(role)
        if world.cluster.allows(job, target, port, protocol)
    ]
    assert set(allowed) == {
        ("kube-dns", 53, "UDP"),
        ("kube-dns", 53, "TCP"),
        ("store", 5432, "TCP"),
        ("store-replica", 5432, "TCP"),
    }
    refused = [
        ("web", 443),
        ("web", 5432),
        ("kube-api", 443),
        ("kube-api", 6443),
        ("metadata", 80),
        ("postgres", 5432),  # another PostgreSQL of the cluster: not the store
        ("router", 8080),
        ("agents", 8000),
        ("store", 8000),
    ]
    for role, port in refused:
        for target in world.endpoints(role):
            assert not world.cluster.allows(job, target, port, cidrs_match_pods=True), (role, port)
    callers = {role for role in world.roles if role != "store-migrations"}
    for role in callers:
        for source in world.endpoints(role):
            assert not world.cluster.allows(source, job, 8080, cidrs_match_pods=True), role


def test_every_call_edge_still_passes_with_the_store_on(cnpg_installation: World) -> None:
    failures = [
        f"{edge}: {source} -> {target}"
        for edge in [*(e for row in ROWS for e in row.edges), *IMPLIED]
        for source, target, allowed in cnpg_installation.verdicts(edge)
        if not allowed
    ]
    assert not failures, failures
    passing = [
        f"{edge}: {source} -> {target}"
        for edge in MUST_REFUSE
        for source, target, allowed in cnpg_installation.verdicts(edge, cidrs_match_pods=True)
        if allowed
    ]
    assert not passing, passing


def test_the_consoles_own_policy_reaches_the_clusters_pods_and_no_other_postgres(
    render_with: RenderWith, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the console in the chart its egress is narrowed too: PostgreSQL only on the
    store's pods, found by the labels CloudNativePG gives them."""
    chart = render_with({**CNPG_VALUES, "console": {"enabled": True}})
    world = with_store(build_world(operator_platform(chart, monkeypatch), chart))
    consoles = world.endpoints("console")
    assert any(world.cluster.isolating(c, "Egress") for c in consoles if isinstance(c, Pod))
    for console in consoles:
        for role in ("store", "store-replica"):
            for target in world.endpoints(role):
                assert world.cluster.allows(console, target, 5432), role
                assert not world.cluster.allows(console, target, 8000, cidrs_match_pods=True)
        for role in ("postgres", "vpc-host", "agents"):  # another PostgreSQL is not the store
            for target in world.endpoints(role):
                assert not world.cluster.allows(console, target, 5432, cidrs_match_pods=True), role


def test_cnpg_operator_is_found_where_the_values_say(
    render_with: RenderWith, monkeypatch: pytest.MonkeyPatch
) -> None:
    network = {**NETWORK, "cloudNativePG": {"namespace": "databases", "podLabels": {"app": "cnpg"}}}
    chart = render_with({**CNPG_VALUES, "networkPolicy": network})
    world = with_store(build_world(operator_platform(chart, monkeypatch), chart))
    (store,) = world.endpoints("store")
    moved = Pod("cnpg", "databases", {"app": "cnpg"}, "10.244.210.9")
    assert world.cluster.allows(moved, store, 8000)
    (default_place,) = world.endpoints("cnpg-operator")
    assert not world.cluster.allows(default_place, store, 8000)


def external_world(
    render_with: RenderWith, monkeypatch: pytest.MonkeyPatch, to: list[dict[str, Any]]
) -> World:
    values = {
        "store": {"enabled": True, "urlSecretRef": {"name": "pg"}, "networkPolicy": {"to": to}},
        "networkPolicy": NETWORK,
    }
    chart = render_with(values)
    assert not [
        m for m in chart if m["kind"] == "NetworkPolicy" and m["metadata"]["name"] == "katha-store"
    ]
    return build_world(operator_platform(chart, monkeypatch), chart)


def test_an_external_store_is_reached_where_store_network_policy_to_says(
    render_with: RenderWith, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = external_world(render_with, monkeypatch, [{"ipBlock": {"cidr": "10.20.30.0/24"}}])
    (job,) = world.endpoints("store-migrations")
    (database,) = world.endpoints("vpc-host")  # 10.20.30.40
    assert world.cluster.allows(job, database, 5432)
    assert not world.cluster.allows(job, database, 443)
    for elsewhere in ("private-172", "web", "postgres"):
        for target in world.endpoints(elsewhere):
            assert not world.cluster.allows(job, target, 5432, cidrs_match_pods=True), elsewhere
    for router in world.endpoints("router"):
        assert world.cluster.allows(router, database, 5432), "the router's egress is open"


def test_an_external_store_anywhere_by_default_but_only_on_its_port(
    render_with: RenderWith, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = external_world(render_with, monkeypatch, [])
    (job,) = world.endpoints("store-migrations")
    for role in ("vpc-host", "web", "postgres"):
        for target in world.endpoints(role):
            assert world.cluster.allows(job, target, 5432), role
            assert not world.cluster.allows(job, target, 443, cidrs_match_pods=True), role
