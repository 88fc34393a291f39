"""NetworkPolicies for every pod the operator creates: a tenant's agent and a LanguageModel.

Each policy isolates its pods both ways and admits exactly the call edges in DESIGN.md's
table; tests/support/call_edges.py holds that table and the tests evaluate these policies
against it as an enforcing CNI would.
"""

from typing import Any

from business_operator.names import BUSINESS_LABEL, LANGUAGE_MODEL_LABEL
from business_operator.render.context import Network, Platform, Tenant
from katha.contracts.serving import AGENT_PORT

RAY_DASHBOARD_PORT = 8265
DNS_PORT = 53
# Never "the internet": private (RFC 1918), shared CGNAT (often pod ranges), loopback,
# link-local (cloud metadata at 169.254.169.254) and this-network.
PRIVATE_IPV4 = (
    "0.0.0.0/8",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.168.0.0/16",
)
# Unique-local (fd00:ec2::254 is AWS's metadata), link-local, loopback, IPv4-mapped.
PRIVATE_IPV6 = ("fc00::/7", "fe80::/10", "::1/128", "::ffff:0:0/96")
LINK_LOCAL_IPV4 = "169.254.0.0/16"
WEB_PORTS = (443, 80)


def tcp(*ports: int) -> list[dict[str, Any]]:
    return [{"protocol": "TCP", "port": port} for port in ports]


def in_namespace(namespace: str, labels: dict[str, str]) -> dict[str, Any]:
    """Pods with these labels in that one namespace (both selectors in one peer: AND)."""
    return {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}},
        "podSelector": {"matchLabels": dict(labels)},
    }


def internet(network: Network) -> list[dict[str, Any]]:
    """Public addresses only: everything but the private ranges and the cluster's own."""
    v4 = [cidr for cidr in network.cluster_cidrs if ":" not in cidr]
    v6 = [cidr for cidr in network.cluster_cidrs if ":" in cidr]
    return [
        {"ipBlock": {"cidr": "0.0.0.0/0", "except": [*PRIVATE_IPV4, *v4]}},
        {"ipBlock": {"cidr": "::/0", "except": [*PRIVATE_IPV6, *v6]}},
    ]


def dns_rule(network: Network) -> dict[str, Any]:
    ports = [{"protocol": protocol, "port": DNS_PORT} for protocol in ("UDP", "TCP")]
    return {"to": [in_namespace(network.dns_namespace, network.dns_labels)], "ports": ports}


def web_rule(network: Network) -> dict[str, Any]:
    return {"to": internet(network), "ports": tcp(*WEB_PORTS)}


def kuberay_rule(network: Network) -> dict[str, Any]:
    """KubeRay deploys and health-checks Serve applications through the head's dashboard."""
    peer = in_namespace(network.kuberay_namespace, network.kuberay_labels)
    return {"from": [peer], "ports": tcp(RAY_DASHBOARD_PORT, AGENT_PORT)}


def postgres_rule(network: Network) -> dict[str, Any]:
    peers = network.postgres_peers
    if peers is None:
        everywhere_but_metadata = {"ipBlock": {"cidr": "0.0.0.0/0", "except": [LINK_LOCAL_IPV4]}}
        peers = ({"namespaceSelector": {}}, everywhere_but_metadata)
    return {"to": [dict(peer) for peer in peers], "ports": tcp(network.postgres_port)}


def own(labels: dict[str, str]) -> dict[str, Any]:
    """The policy's own pods (a podSelector alone: in the policy's namespace only)."""
    return {"podSelector": {"matchLabels": dict(labels)}}


def language_model_pods(platform: Platform, name: str) -> dict[str, Any]:
    return in_namespace(platform.namespace, {LANGUAGE_MODEL_LABEL: name})


def language_models(tenant: Tenant) -> list[str]:
    """The LanguageModels the Business names (answers, voice notes, photos), each once."""
    spec = tenant.spec
    named = [part.language_model_ref for part in (spec.model, spec.voice, spec.vision) if part]
    return sorted({str(name) for name in named if name is not None})


def render_network_policy(tenant: Tenant) -> dict[str, Any]:
    """Every pod of the Business (agent, Ray head and workers, indexing): the router, Prometheus
    and (for a RayService) KubeRay in; DNS, the tenant's models (answers, voice, vision), its
    Postgres and the public web out; its own pods both ways. Nothing from other tenants,
    nothing to private ranges."""
    platform, network = tenant.platform, tenant.platform.network
    pods = {BUSINESS_LABEL: tenant.name}
    router = in_namespace(platform.namespace, platform.router_labels)
    prometheus = in_namespace(network.prometheus_namespace, network.prometheus_labels)
    ingress: list[dict[str, Any]] = [
        {"from": [router], "ports": tcp(AGENT_PORT)},
        # The agent serves /metrics on its HTTP port.
        {"from": [prometheus], "ports": tcp(AGENT_PORT)},
        # Ray's head and workers use many ports between each other.
        {"from": [own(pods)]},
    ]
    if tenant.workload == "rayService":
        ingress.insert(2, kuberay_rule(network))
    egress: list[dict[str, Any]] = [dns_rule(network), {"to": [own(pods)]}]
    served_by = [language_model_pods(platform, name) for name in language_models(tenant)]
    if served_by:
        egress.append({"to": served_by, "ports": tcp(AGENT_PORT)})
    if tenant.spec.memory.postgres is not None:
        egress.append(postgres_rule(network))
    egress.append(web_rule(network))
    egress.extend(dict(rule) for rule in network.agent_extra_egress)
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": tenant.metadata("agent"),
        "spec": {
            "podSelector": {"matchLabels": dict(pods)},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": ingress,
            "egress": egress,
        },
    }


def render_model_network_policy(
    platform: Platform, name: str, metadata: dict[str, Any]
) -> dict[str, Any]:
    """A LanguageModel's Ray pods: KubeRay (dashboard, serve) and tenants' agents (serve) in;
    DNS and the public web (model weights) out; its own pods both ways. The dashboard runs
    jobs, that is code on the GPUs, so only KubeRay reaches it."""
    network = platform.network
    pods = {LANGUAGE_MODEL_LABEL: name}
    # Every Business's pods carry the Business label; agents may be in any namespace.
    agents = {
        "namespaceSelector": {},
        "podSelector": {"matchExpressions": [{"key": BUSINESS_LABEL, "operator": "Exists"}]},
    }
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": metadata,
        "spec": {
            "podSelector": {"matchLabels": dict(pods)},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [
                kuberay_rule(network),
                {"from": [agents], "ports": tcp(AGENT_PORT)},
                {"from": [own(pods)]},
            ],
            "egress": [dns_rule(network), {"to": [own(pods)]}, web_rule(network)],
        },
    }
