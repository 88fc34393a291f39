"""The whole installation's NetworkPolicies — the chart's, and the operator's rendered with
the settings the chart gives it — evaluated against DESIGN.md's call-edge table, without
the owner console and with it (beside an external conversation store)."""

from collections.abc import Callable
from typing import Any

import pytest
from call_edges import CLUSTER_PUBLIC_RANGE, IMPLIED, MUST_REFUSE, ROWS, Edge, World, build_world
from katha_chart import HelmError, Manifest, operator_platform
from netpol import Cluster, Pod

RenderWith = Callable[[dict[str, Any]], list[Manifest]]
NAME = "kubernetes.io/metadata.name"
INGRESS_ONLY = [
    {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}}
]
VALUES: dict[str, Any] = {
    "networkPolicy": {
        "enabled": True,
        "router": {"from": INGRESS_ONLY},
        "clusterCIDRs": [CLUSTER_PUBLIC_RANGE],
    }
}
# The console in the chart, its port narrowed to the ingress controller like the router's.
CONSOLE_VALUES: dict[str, Any] = {
    **VALUES,
    "store": {
        "enabled": True,
        "urlSecretRef": {"name": "katha-store"},
        # The store runs in the `databases` namespace (the test cluster's "postgres" pod).
        "networkPolicy": {"to": [{"namespaceSelector": {"matchLabels": {NAME: "databases"}}}]},
    },
    "console": {"enabled": True, "networkPolicy": {"from": INGRESS_ONLY}},
}
ALSO_REFUSED = (
    # With `router.from` narrowed, only the ingress controller, Prometheus and the console.
    Edge("intruder", "router", 8080),
    Edge("agents", "router", 8080),
    Edge("intruder", "operator", 9999),
    Edge("prometheus-neighbour", "router", 8080),
)
# What the console's own rows of the table mean besides (DESIGN.md: "Prometheus ... console",
# "owner console -> router admin API, conversation store"), checked once it is in the chart.
CONSOLE_EDGES = (
    Edge("prometheus", "console", 9102),  # /metrics on its own port, never behind the Ingress
    Edge("ingress-controller", "console", 8080),
    Edge("console", "router", 8080),
    Edge("console", "postgres", 5432),
    Edge("console", "kube-dns", 53, "UDP"),
    Edge("console", "kube-dns", 53, "TCP"),
    Edge("console", "web", 443),  # the OIDC issuer, wherever it is
)
CONSOLE_REFUSED = (
    Edge("intruder", "console", 8080),
    Edge("intruder", "console", 9102),
    Edge("ingress-controller", "console", 9102),
    Edge("prometheus-neighbour", "console", 8080),
    Edge("router", "console", 8080),
    *(Edge("console", "agents", port) for port in (8000, 8265)),
    *(Edge("console", "model", port) for port in (8000, 8265)),
    Edge("console", "operator", 8080),
    Edge("console", "web", 80),
    Edge("console", "graph-api", 80),
    Edge("console", "public-dns", 53, "UDP"),
    Edge("console", "metadata", 80),
    Edge("console", "router", 9090),
)


@pytest.fixture(params=["without-console", "with-console"])
def installation(
    request: pytest.FixtureRequest, render_with: RenderWith, monkeypatch: pytest.MonkeyPatch
) -> World:
    chart = render_with(CONSOLE_VALUES if request.param == "with-console" else VALUES)
    return build_world(operator_platform(chart, monkeypatch), chart)


@pytest.fixture
def with_console(render_with: RenderWith, monkeypatch: pytest.MonkeyPatch) -> World:
    chart = render_with(CONSOLE_VALUES)
    world = build_world(operator_platform(chart, monkeypatch), chart)
    assert any(
        m["kind"] == "Deployment" and m["metadata"]["name"] == "katha-console" for m in chart
    )
    return world


def _edge_id(edge: Edge) -> str:
    return f"{edge.source}->{edge.target}:{edge.port}/{edge.protocol}"


def test_every_call_edge_passes_the_installations_policies(installation: World) -> None:
    failures = [
        f"{_edge_id(edge)}: {source} -> {target}"
        for edge in [*(e for row in ROWS for e in row.edges), *IMPLIED]
        for source, target, allowed in installation.verdicts(edge)
        if not allowed
    ]
    assert not failures, f"call edges of DESIGN.md refused: {failures}"


def test_nothing_else_passes_the_installations_policies(installation: World) -> None:
    failures = [
        f"{_edge_id(edge)}: {source} -> {target}"
        for edge in [*MUST_REFUSE, *ALSO_REFUSED]
        for source, target, allowed in installation.verdicts(edge, cidrs_match_pods=True)
        if allowed
    ]
    assert not failures, f"connections outside DESIGN.md's table pass: {failures}"


def test_the_router_admits_prometheus_even_when_its_port_is_narrowed_to_the_ingress(
    installation: World,
) -> None:
    (router,) = installation.endpoints("router")
    assert isinstance(router, Pod)
    assert installation.cluster.isolating(router, "Ingress")
    for edge in (Edge("prometheus", "router", 8080), Edge("console", "router", 8080)):
        assert all(allowed for *_, allowed in installation.verdicts(edge)), edge


def test_the_consoles_edges_pass_and_nothing_else(with_console: World) -> None:
    """The console's pods (the chart's, and one more with its labels) are isolated both
    ways; its edges pass, and neighbours, ports and places outside them do not."""
    for console in with_console.endpoints("console"):
        assert isinstance(console, Pod)
        assert with_console.cluster.isolating(console, "Ingress")
        assert with_console.cluster.isolating(console, "Egress")
    refused = [
        f"{_edge_id(edge)}: {source} -> {target}"
        for edge in CONSOLE_EDGES
        for source, target, allowed in with_console.verdicts(edge)
        if not allowed
    ]
    assert not refused, refused
    passing = [
        f"{_edge_id(edge)}: {source} -> {target}"
        for edge in CONSOLE_REFUSED
        for source, target, allowed in with_console.verdicts(edge, cidrs_match_pods=True)
        if allowed
    ]
    assert not passing, passing


def test_the_console_calls_no_pod_but_dns_the_router_and_the_store(with_console: World) -> None:
    """Every pod of the test cluster, on the ports Katha's workloads listen on: from the
    console only the table's edges pass. (443 is open to any address, for the OIDC issuer.)"""
    ports = (53, 5432, 6379, 8000, 8080, 8265, 9090, 10001, 52365)
    found = {
        (role, port)
        for role, targets in with_console.roles.items()
        if role != "console"
        for target in targets
        if isinstance(target, Pod)
        for port in ports
        for console in with_console.endpoints("console")
        if with_console.cluster.allows(console, target, port, cidrs_match_pods=True)
    }
    assert found == {("router", 8080), ("postgres", 5432), ("kube-dns", 53)}


def test_kuberay_and_prometheus_are_found_where_the_values_say(
    render_with: RenderWith, monkeypatch: pytest.MonkeyPatch
) -> None:
    values = {
        "networkPolicy": {
            **VALUES["networkPolicy"],
            "kuberay": {"namespace": "ray-system", "podLabels": {"app": "kuberay"}},
            "prometheus": {"namespace": "observability", "podLabels": {"app": "prom"}},
        }
    }
    chart = render_with(values)
    platform = operator_platform(chart, monkeypatch)
    world = build_world(platform, chart)
    head = world.endpoints("model-head")[0]
    agent = world.endpoints("agents")[0]
    router = world.endpoints("router")[0]
    kuberay = Pod("kuberay", "ray-system", {"app": "kuberay"}, "10.244.200.1")
    prometheus = Pod("prom", "observability", {"app": "prom"}, "10.244.200.2")
    cluster = Cluster.of(
        {**world.cluster.namespaces, "ray-system": {}, "observability": {}}, world.cluster.policies
    )
    assert cluster.allows(kuberay, head, 8265)
    assert cluster.allows(prometheus, agent, 8000)
    assert cluster.allows(prometheus, router, 8080)
    # ... and the defaults no longer.
    for source in world.endpoints("kuberay"):
        assert not cluster.allows(source, head, 8265)
    for source in world.endpoints("prometheus"):
        assert not cluster.allows(source, agent, 8000)


@pytest.mark.parametrize(
    ("values", "complaint"),
    [
        ({"clusterCIDRs": ["everything"]}, "/networkPolicy/clusterCIDRs/0"),
        (
            {"kuberay": {"namespace": "default", "podLabels": {"a": 1}}},
            "/networkPolicy/kuberay/podLabels",
        ),
        (
            {"prometheus": {"namespace": "Monitoring", "podLabels": {"a": "b"}}},
            "/networkPolicy/prometheus/namespace",
        ),
        ({"agents": {"postgres": {"port": 0}}}, "/networkPolicy/agents/postgres/port"),
    ],
)
def test_schema_refuses_network_values_that_would_break_every_policy(
    render_with: RenderWith, values: dict[str, Any], complaint: str
) -> None:
    with pytest.raises(HelmError, match=complaint):
        render_with({"networkPolicy": values})
