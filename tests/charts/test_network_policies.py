"""The whole installation's NetworkPolicies — the chart's, and the operator's rendered with
the settings the chart gives it — evaluated against DESIGN.md's call-edge table."""

from collections.abc import Callable
from typing import Any

import pytest
from call_edges import CLUSTER_PUBLIC_RANGE, IMPLIED, MUST_REFUSE, ROWS, Edge, World, build_world
from katha_chart import HelmError, Manifest, operator_platform
from netpol import Cluster, Pod

RenderWith = Callable[[dict[str, Any]], list[Manifest]]
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
ALSO_REFUSED = (
    # With `router.from` narrowed, only the ingress controller, Prometheus and the console.
    Edge("intruder", "router", 8080),
    Edge("agents", "router", 8080),
    Edge("intruder", "operator", 9999),
    Edge("prometheus-neighbour", "router", 8080),
)


@pytest.fixture
def installation(render_with: RenderWith, monkeypatch: pytest.MonkeyPatch) -> World:
    chart = render_with(VALUES)
    return build_world(operator_platform(chart, monkeypatch), chart)


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
