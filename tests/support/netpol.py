"""Kubernetes NetworkPolicy semantics, as an enforcing CNI applies them, for tests.

A pod selected by any policy whose policyTypes name Ingress (or Egress) is isolated that
way, and a connection passes only if some rule of those policies admits it: the peer
(podSelector alone: the policy's namespace; namespaceSelector alone: every pod there; both
in one peer: AND; ipBlock: the CIDR minus `except`) and the port (protocol, number or
named container port, endPort). No `from`/`to` admits every peer; no `ports`, every port.
A connection needs both the source's egress and the destination's ingress.

Whether an ipBlock also matches pod addresses differs between CNIs (Calico: yes; Cilium:
no), so `allows` takes `cidrs_match_pods`: must-pass edges are checked without it and
must-refuse edges with it, so both hold on either kind of CNI.
"""

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

Manifest = dict[str, Any]
NAME_LABEL = "kubernetes.io/metadata.name"


@dataclass(frozen=True)
class Pod:
    name: str
    namespace: str
    labels: Mapping[str, str]
    ip: str
    ports: Mapping[str, int] = field(default_factory=dict)  # named container ports


@dataclass(frozen=True)
class External:
    """An address outside the cluster's pods: the internet, cloud metadata, a VPC host."""

    name: str
    ip: str


Endpoint = Pod | External


def selects(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    """A LabelSelector: matchLabels and matchExpressions all hold; `{}` selects everything."""
    if selector is None:
        return True
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        key, operator = expression["key"], expression["operator"]
        values = expression.get("values") or []
        present = key in labels
        if operator == "In" and not (present and labels[key] in values):
            return False
        if operator == "NotIn" and present and labels[key] in values:
            return False
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
    return True


def in_block(ip: str, block: Mapping[str, Any]) -> bool:
    address = ipaddress.ip_address(ip)
    network = ipaddress.ip_network(block["cidr"])
    if address.version != network.version or address not in network:
        return False
    return not any(
        address.version == ipaddress.ip_network(cidr).version
        and address in ipaddress.ip_network(cidr)
        for cidr in block.get("except") or []
    )


@dataclass(frozen=True)
class Cluster:
    """Namespaces (name → labels) and the NetworkPolicies in force."""

    namespaces: Mapping[str, Mapping[str, str]]
    policies: tuple[Manifest, ...]

    @classmethod
    def of(
        cls,
        namespaces: Iterable[str] | Mapping[str, Mapping[str, str]],
        policies: Iterable[Manifest],
    ) -> "Cluster":
        labelled = namespaces if isinstance(namespaces, Mapping) else {n: {} for n in namespaces}
        # The API server sets kubernetes.io/metadata.name on every namespace.
        full = {name: {**labels, NAME_LABEL: name} for name, labels in labelled.items()}
        chosen = tuple(p for p in policies if p.get("kind") == "NetworkPolicy")
        return cls(full, chosen)

    def allows(
        self,
        source: Endpoint,
        target: Endpoint,
        port: int,
        protocol: str = "TCP",
        *,
        cidrs_match_pods: bool = False,
    ) -> bool:
        egress = (
            self._admits(source, target, target, port, protocol, "Egress", cidrs_match_pods)
            if isinstance(source, Pod)
            else True
        )
        ingress = (
            self._admits(target, source, target, port, protocol, "Ingress", cidrs_match_pods)
            if isinstance(target, Pod)
            else True
        )
        return egress and ingress

    def isolating(self, pod: Pod, direction: str) -> list[Manifest]:
        """The policies that select `pod` and restrict `direction` ("Ingress" or "Egress")."""
        return [
            policy
            for policy in self.policies
            if policy["metadata"]["namespace"] == pod.namespace
            and direction in _types(policy["spec"])
            and selects(policy["spec"].get("podSelector") or {}, pod.labels)
        ]

    def _admits(
        self,
        pod: Pod,
        peer: Endpoint,
        destination: Endpoint,
        port: int,
        protocol: str,
        direction: str,
        cidrs_match_pods: bool,
    ) -> bool:
        policies = self.isolating(pod, direction)
        if not policies:
            return True  # not isolated this way
        key, peers_key = ("ingress", "from") if direction == "Ingress" else ("egress", "to")
        for policy in policies:
            namespace = policy["metadata"]["namespace"]
            for rule in policy["spec"].get(key) or []:
                peers = rule.get(peers_key) or []
                if peers and not any(
                    self._peer_matches(p, namespace, peer, cidrs_match_pods) for p in peers
                ):
                    continue
                if _port_matches(rule.get("ports") or [], destination, port, protocol):
                    return True
        return False

    def _peer_matches(
        self, peer: Mapping[str, Any], namespace: str, endpoint: Endpoint, cidrs_match_pods: bool
    ) -> bool:
        if "ipBlock" in peer:
            if isinstance(endpoint, Pod) and not cidrs_match_pods:
                return False
            return in_block(endpoint.ip, peer["ipBlock"])
        if isinstance(endpoint, External):
            return False  # selectors name pods only
        if "namespaceSelector" in peer:
            labels = self.namespaces[endpoint.namespace]
            if not selects(peer["namespaceSelector"], labels):
                return False
        elif endpoint.namespace != namespace:
            return False
        return selects(peer.get("podSelector") or {}, endpoint.labels)


def _types(spec: Mapping[str, Any]) -> list[str]:
    if "policyTypes" in spec:
        return list(spec["policyTypes"])
    return ["Ingress", *(["Egress"] if "egress" in spec else [])]


def _port_matches(
    ports: list[Mapping[str, Any]], destination: Endpoint, port: int, protocol: str
) -> bool:
    if not ports:
        return True
    for entry in ports:
        if entry.get("protocol", "TCP") != protocol:
            continue
        wanted = entry.get("port")
        if wanted is None:
            return True
        if isinstance(wanted, str):
            named = destination.ports.get(wanted) if isinstance(destination, Pod) else None
            if named == port:
                return True
            continue
        if wanted == port or wanted <= port <= entry.get("endPort", wanted):
            return True
    return False


def pods_of(manifest: Manifest, ips: Iterable[str]) -> list[Pod]:
    """The pods a workload would run (one per template), labelled as their controller labels
    them: KubeRay adds its own labels to a RayService's head and worker pods."""
    addresses = iter(ips)
    templates: list[tuple[str, Manifest, dict[str, str]]] = []
    spec = manifest.get("spec") or {}
    name = manifest["metadata"]["name"]
    if manifest["kind"] == "RayService":
        cluster = spec["rayClusterConfig"]
        ray = {"ray.io/cluster": f"{name}-raycluster", "ray.io/is-ray-node": "yes"}
        head = {**ray, "ray.io/node-type": "head", "ray.io/group": "headgroup"}
        templates.append((f"{name}-head", cluster["headGroupSpec"]["template"], head))
        for group in cluster.get("workerGroupSpecs") or []:
            worker = {**ray, "ray.io/node-type": "worker", "ray.io/group": group["groupName"]}
            templates.append((f"{name}-{group['groupName']}-worker", group["template"], worker))
    elif manifest["kind"] in {"Deployment", "StatefulSet", "DaemonSet", "Job"}:
        templates.append((name, spec["template"], {}))
    pods = []
    for pod_name, template, extra in templates:
        containers = [
            *template["spec"].get("initContainers", []),
            *template["spec"]["containers"],
        ]
        ports = {
            port["name"]: port["containerPort"]
            for container in containers
            for port in container.get("ports") or []
            if "name" in port
        }
        labels = {**template["metadata"].get("labels", {}), **extra}
        namespace = manifest["metadata"]["namespace"]
        pods.append(Pod(pod_name, namespace, labels, next(addresses), ports))
    return pods
