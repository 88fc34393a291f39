"""The NetworkPolicies the operator renders, evaluated as an enforcing CNI would against
DESIGN.md's call-edge table: every edge a cluster needs passes, and nothing else does."""

import json
from typing import Any

import pytest
import yaml
from call_edges import (
    CLUSTER_PUBLIC_RANGE,
    DESIGN,
    EXAMPLES,
    IMPLIED,
    MUST_REFUSE,
    ROWS,
    Edge,
    World,
    build_world,
    design_rows,
    model,
    tenant,
)
from netpol import Cluster, External, Pod, pods_of
from pydantic import ValidationError

from business_operator.render import (
    Model,
    Platform,
    render_agent_children,
    render_language_model_children,
)
from business_operator.render.context import Network
from business_operator.settings import OperatorSettings
from katha.api import LanguageModel

PLATFORM = Platform(network=Network(cluster_cidrs=(CLUSTER_PUBLIC_RANGE,)))
OPERATOR_ROLES = {"agents", "indexing", "model", "model-head", "model-workers", "agent-heads"}


@pytest.fixture(scope="module")
def world() -> World:
    return build_world(PLATFORM)


def _refused_or_explain(world: World, edge: Edge) -> list[str]:
    return [
        f"{source} -> {target}:{edge.port}/{edge.protocol}"
        for source, target, allowed in world.verdicts(edge, cidrs_match_pods=True)
        if allowed
    ]


# The evaluator itself, on cases whose answer Kubernetes' documentation gives.

NS = {"a": {"team": "x"}, "b": {"team": "y"}}
WEB = Pod("web", "a", {"app": "web"}, "10.1.0.1", {"http": 8080})
CLIENT = Pod("client", "a", {"app": "client"}, "10.1.0.2")
OTHER = Pod("other", "b", {"app": "client"}, "10.1.0.3")


def _policy(namespace: str, spec: dict[str, Any]) -> dict[str, Any]:
    meta = {"name": "p", "namespace": namespace}
    return {"kind": "NetworkPolicy", "metadata": meta, "spec": spec}


def test_evaluator_lets_everything_through_while_no_policy_selects_a_pod() -> None:
    cluster = Cluster.of(NS, [_policy("a", {"podSelector": {"matchLabels": {"app": "db"}}})])
    assert cluster.allows(OTHER, WEB, 12345)
    assert cluster.allows(WEB, External("x", "169.254.169.254"), 80)


def test_evaluator_isolates_a_selected_pod_and_admits_only_matching_peers_and_ports() -> None:
    spec = {
        "podSelector": {"matchLabels": {"app": "web"}},
        "ingress": [
            {
                "from": [{"podSelector": {"matchLabels": {"app": "client"}}}],
                "ports": [{"port": "http"}],
            }
        ],
    }
    cluster = Cluster.of(NS, [_policy("a", spec)])
    assert cluster.allows(CLIENT, WEB, 8080)
    assert not cluster.allows(CLIENT, WEB, 8081)  # another port
    assert not cluster.allows(CLIENT, WEB, 8080, "UDP")
    assert not cluster.allows(OTHER, WEB, 8080)  # a podSelector alone: the policy's namespace
    assert cluster.allows(WEB, OTHER, 9)  # no Egress in policyTypes: egress stays open


def test_evaluator_ands_namespace_and_pod_selectors_in_one_peer_and_ors_two_peers() -> None:
    both = {
        "namespaceSelector": {"matchLabels": {"team": "y"}},
        "podSelector": {"matchLabels": {"app": "nope"}},
    }
    anded = _policy("a", {"podSelector": {}, "ingress": [{"from": [both]}]})
    assert not Cluster.of(NS, [anded]).allows(OTHER, WEB, 8080)
    split = [
        {"namespaceSelector": {"matchLabels": {"team": "y"}}},
        {"podSelector": {"matchLabels": {"app": "nope"}}},
    ]
    ored = _policy("a", {"podSelector": {}, "ingress": [{"from": split}]})
    assert Cluster.of(NS, [ored]).allows(OTHER, WEB, 8080)


def test_evaluator_applies_ip_block_exceptions_and_empty_egress_denies_all() -> None:
    block = {"ipBlock": {"cidr": "0.0.0.0/0", "except": ["169.254.0.0/16", "10.0.0.0/8"]}}
    spec = {
        "podSelector": {},
        "policyTypes": ["Egress"],
        "egress": [{"to": [block], "ports": [{"port": 443}]}],
    }
    cluster = Cluster.of(NS, [_policy("a", spec)])
    assert cluster.allows(CLIENT, External("web", "93.184.215.14"), 443)
    assert not cluster.allows(CLIENT, External("meta", "169.254.169.254"), 443)
    assert not cluster.allows(CLIENT, External("web", "93.184.215.14"), 80)
    assert not cluster.allows(CLIENT, OTHER, 443)  # a pod: ipBlock does not name it here...
    assert not cluster.allows(CLIENT, OTHER, 443, cidrs_match_pods=True)  # ...nor 10/8
    deny = _policy("a", {"podSelector": {}, "policyTypes": ["Egress"]})
    assert not Cluster.of(NS, [deny]).allows(CLIENT, External("web", "93.184.215.14"), 443)


def test_evaluator_needs_the_sources_egress_and_the_targets_ingress() -> None:
    open_ingress = _policy("a", {"podSelector": {}, "ingress": [{}]})
    no_egress = _policy("b", {"podSelector": {}, "policyTypes": ["Egress"], "egress": []})
    cluster = Cluster.of(NS, [open_ingress, no_egress])
    assert cluster.allows(CLIENT, WEB, 1)
    assert not cluster.allows(OTHER, WEB, 1)


def test_evaluator_matches_expressions() -> None:
    selector = {"matchExpressions": [{"key": "app", "operator": "In", "values": ["client"]}]}
    spec = {
        "podSelector": {},
        "ingress": [{"from": [{"namespaceSelector": {}, "podSelector": selector}]}],
    }
    cluster = Cluster.of(NS, [_policy("a", spec)])
    assert cluster.allows(OTHER, WEB, 1)
    assert not cluster.allows(WEB, CLIENT, 1)


# The operator's policies against the table.


@pytest.mark.parametrize(
    "edge",
    [edge for row in ROWS for edge in row.edges] + list(IMPLIED),
    ids=lambda edge: f"{edge.source}->{edge.target}:{edge.port}/{edge.protocol}",
)
def test_every_call_edge_passes_the_operators_policies(world: World, edge: Edge) -> None:
    refused = [f"{source} -> {target}" for source, target, ok in world.verdicts(edge) if not ok]
    assert not refused, f"{edge} is a call edge of DESIGN.md but is refused: {refused}"


@pytest.mark.parametrize(
    "edge",
    MUST_REFUSE,
    ids=lambda edge: f"{edge.source}->{edge.target}:{edge.port}/{edge.protocol}",
)
def test_nothing_else_passes_the_operators_policies(world: World, edge: Edge) -> None:
    allowed = _refused_or_explain(world, edge)
    assert not allowed, f"{edge} must be refused, yet passes: {allowed}"


def test_every_pod_the_operator_creates_is_isolated_both_ways(world: World) -> None:
    pods = {
        pod.name: pod
        for role in OPERATOR_ROLES
        for pod in world.endpoints(role)
        if isinstance(pod, Pod)
    }
    for pod in pods.values():
        for direction in ("Ingress", "Egress"):
            assert world.cluster.isolating(pod, direction), f"{pod.name}: no {direction} policy"


def test_the_call_edge_list_covers_every_row_of_designs_table() -> None:
    rows = design_rows(DESIGN.read_text())
    assert len(rows) >= 10
    ours = {(row.source, row.target) for row in ROWS}
    missing = [row for row in rows if row not in ours]
    assert not missing, f"tests/support/call_edges.py lacks DESIGN.md's rows {missing}"


def test_a_tenant_without_ray_service_gets_no_kuberay_rule() -> None:
    deployment = tenant("01-minimal-business", "tenants", "deployment", PLATFORM)
    policy = next(m for m in render_agent_children(deployment) if m["kind"] == "NetworkPolicy")
    assert "8265" not in json.dumps(policy)


def test_cluster_cidrs_from_settings_are_kept_from_the_agents_internet() -> None:
    settings = OperatorSettings(cluster_cidrs=["203.0.113.0/24", "2001:db8::/64"])
    platform = Platform(network=settings.network())
    world = build_world(platform)
    target = External("svc", "203.0.113.9")
    agents = [pod for pod in world.endpoints("agents") if isinstance(pod, Pod)]
    assert not any(world.cluster.allows(pod, target, 443) for pod in agents)
    assert not any(world.cluster.allows(pod, External("v6", "2001:db8::5"), 443) for pod in agents)
    default = build_world(Platform())
    assert all(default.cluster.allows(pod, target, 443) for pod in agents)


@pytest.mark.parametrize("cidr", ["10.0.0.1/8", "not-a-cidr", "300.0.0.0/8"])
def test_operator_refuses_a_malformed_cluster_cidr(cidr: str) -> None:
    with pytest.raises(ValidationError, match="cluster_cidrs"):
        OperatorSettings(cluster_cidrs=[cidr])


def test_custom_postgres_peers_and_extra_egress_replace_the_defaults() -> None:
    network = Network(
        postgres_port=6432,
        postgres_peers=({"ipBlock": {"cidr": "10.9.0.0/16"}},),
        agent_extra_egress=(
            {"to": [{"ipBlock": {"cidr": "10.8.0.0/16"}}], "ports": [{"port": 8000}]},
        ),
    )
    platform = Platform(network=network)
    shop = tenant("05-business-with-postgres-memory", "shops", "deployment", platform)
    (pod,) = [p for m in render_agent_children(shop) for p in _pods(m)]
    cluster = Cluster.of(["shops"], render_agent_children(shop))
    assert cluster.allows(pod, External("pg", "10.9.1.1"), 6432)
    assert not cluster.allows(pod, External("pg", "10.9.1.1"), 5432)
    assert not cluster.allows(pod, External("elsewhere", "10.7.1.1"), 6432)
    assert cluster.allows(pod, External("vllm", "10.8.0.4"), 8000)


def _pods(manifest: dict[str, Any]) -> list[Pod]:
    return pods_of(manifest, (f"10.244.9.{n}" for n in range(2, 250)))


# Ray's token authentication where Ray runs.


def test_both_rayservices_turn_on_rays_token_authentication() -> None:
    agent = tenant("01-minimal-business", "tenants", "rayService", PLATFORM)
    services = [
        next(m for m in render_agent_children(agent) if m["kind"] == "RayService"),
        next(
            m for m in render_language_model_children(model(PLATFORM)) if m["kind"] == "RayService"
        ),
    ]
    for service in services:
        assert service["spec"]["rayClusterConfig"]["authOptions"] == {"mode": "token"}
    # KubeRay makes and injects the token: the operator never holds or renders one.
    text = yaml.safe_dump(services)
    assert "RAY_AUTH_TOKEN" not in text
    assert all(m["kind"] != "Secret" for m in render_agent_children(agent))


def test_the_single_pod_agent_runs_its_local_ray_with_token_authentication() -> None:
    agent = tenant("01-minimal-business", "tenants", "deployment", PLATFORM)
    deployment = next(m for m in render_agent_children(agent) if m["kind"] == "Deployment")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert {"name": "RAY_AUTH_MODE", "value": "token"} in container["env"]


# Voice notes and photos: the models a Business names for them are call edges of their own
# (DESIGN.md's "agent -> LanguageModel / LLM endpoint", 8000 in the cluster, 443 outside).


def test_an_agent_reaches_the_models_it_names_for_voice_and_photos_and_no_others() -> None:
    gemma = model(PLATFORM)
    resource = LanguageModel.model_validate(
        yaml.safe_load((EXAMPLES / "06-transcription-language-model.yaml").read_text())
    )
    whisper = Model("whisper-large-v3", PLATFORM.namespace, "uid-whisper", resource.spec, PLATFORM)
    shop = tenant("07-business-with-voice-and-photos", "shops", "deployment", PLATFORM)
    plain = tenant("01-minimal-business", "tenants", "deployment", PLATFORM)
    manifests = [
        *render_agent_children(shop),
        *render_agent_children(plain),
        *render_language_model_children(whisper),
        *render_language_model_children(gemma),
    ]
    ips = (f"10.244.8.{n}" for n in range(2, 250))
    pods = {id(m): pods_of(m, ips) for m in manifests}
    by_owner: dict[str, list[Pod]] = {}
    for manifest in manifests:
        owner = manifest["metadata"]["labels"]["app.kubernetes.io/instance"]
        by_owner.setdefault(owner, []).extend(pods[id(manifest)])
    cluster = Cluster.of(["shops", "tenants", PLATFORM.namespace], manifests)
    (agent,) = by_owner["nugegoda-phone-repairs"]
    (other,) = by_owner["kandy-bakehouse"]
    assert len(by_owner["whisper-large-v3"]) == 2  # its Ray head and a GPU worker
    for served in (*by_owner["whisper-large-v3"], *by_owner["gemma-3-4b"]):
        assert cluster.allows(agent, served, 8000), served.name
        assert not cluster.allows(agent, served, 8265), served.name  # KubeRay's alone
        assert not cluster.allows(other, served, 8000), served.name  # names neither
    # An endpoint outside the cluster (OpenAI's transcriptions) is the public web on 443.
    assert cluster.allows(agent, External("api.openai.com", "162.159.140.245"), 443)
