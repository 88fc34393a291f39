"""What rendering needs to know about a tenant and the platform, gathered in one place."""

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Literal

from business_operator.names import child_name, labels, owner_reference
from katha.api import BusinessSpec
from katha.api.knowledge import Knowledge
from katha.contracts.serving import (
    INDEX_MOUNT_PATH,
    AgentAppArgs,
    LlmEndpoint,
)

Workload = Literal["rayService", "deployment"]


# Who else runs in the cluster, as the Helm charts of KubeRay, kube-prometheus-stack and
# CoreDNS label them by default; every agent's and model's NetworkPolicy names them.
KUBERAY_NAMESPACE = "default"  # `helm install kuberay-operator kuberay/kuberay-operator`
KUBERAY_LABELS = {"app.kubernetes.io/name": "kuberay-operator"}
PROMETHEUS_NAMESPACE = "monitoring"
PROMETHEUS_LABELS = {"app.kubernetes.io/name": "prometheus"}  # set by the Prometheus Operator
DNS_NAMESPACE = "kube-system"
DNS_LABELS = {"k8s-app": "kube-dns"}  # CoreDNS keeps kube-dns's label
POSTGRES_PORT = 5432


@dataclass(frozen=True)
class Network:
    """The cluster's neighbours and address ranges that NetworkPolicies must name."""

    kuberay_namespace: str = KUBERAY_NAMESPACE
    kuberay_labels: dict[str, str] = field(default_factory=lambda: dict(KUBERAY_LABELS))
    prometheus_namespace: str = PROMETHEUS_NAMESPACE
    prometheus_labels: dict[str, str] = field(default_factory=lambda: dict(PROMETHEUS_LABELS))
    dns_namespace: str = DNS_NAMESPACE
    dns_labels: dict[str, str] = field(default_factory=lambda: dict(DNS_LABELS))
    # Pod and Service ranges outside the private ones (RFC 1918, CGNAT), kept from the
    # "public internet" that agents may reach.
    cluster_cidrs: tuple[str, ...] = ()
    postgres_port: int = POSTGRES_PORT
    # Where a Business's Postgres may be (NetworkPolicy peers); None: any pod in the
    # cluster or any address but link-local, on postgres_port only.
    postgres_peers: tuple[dict[str, Any], ...] | None = None
    # Egress rules every agent also gets (e.g. an in-cluster LLM endpoint or a proxy).
    agent_extra_egress: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class Platform:
    """Facts about the installation, from the operator's settings."""

    namespace: str = "katha-system"
    image: str = "ghcr.io/katha-dev/katha:0.1.0"
    ray_version: str = "2.60.0"
    router_labels: dict[str, str] = field(
        default_factory=lambda: {"app.kubernetes.io/component": "router"}
    )
    gpu_node_selector: dict[str, str] = field(default_factory=dict)
    network: Network = field(default_factory=Network)


@dataclass(frozen=True)
class Tenant:
    """One Business, as the renderers see it."""

    name: str
    namespace: str
    uid: str
    spec: BusinessSpec
    workload: Workload
    platform: Platform
    llm: LlmEndpoint | None = None
    # The models that read voice notes and photos, once resolved and ready (None: the
    # customer is told a person will listen or look).
    voice: LlmEndpoint | None = None
    vision: LlmEndpoint | None = None

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    def child(self, suffix: str) -> str:
        return child_name(self.name, suffix)

    def labels(self, component: str = "agent") -> dict[str, str]:
        return labels(self.name, component)

    def metadata(self, suffix: str, component: str = "agent", owned: bool = True) -> dict[str, Any]:
        meta: dict[str, Any] = {
            "name": self.child(suffix),
            "namespace": self.namespace,
            "labels": self.labels(component),
        }
        if owned:
            meta["ownerReferences"] = [owner_reference("Business", self.name, self.uid)]
        return meta

    def app_args(self) -> AgentAppArgs:
        """What the serving replicas are given. They only read the index, so the sources
        (the writer's input) are left out: editing them starts an index writer run and
        never rolls the agent's pods."""
        store = self.spec.knowledge.storage.object_store
        return AgentAppArgs(
            tenant=self.key,
            # `paused` is the router's to act on (its route): the agent never reads it, and
            # pausing must not roll the pods the owner un-pauses into a moment later.
            business=self.spec.model_copy(update={"knowledge": Knowledge(), "paused": False}),
            index_dir=store.url if store is not None else INDEX_MOUNT_PATH,
            llm=self.llm,
            voice=self.voice,
            vision=self.vision,
        )


def digest(document: Any) -> str:
    """A checksum of rendered config, put on pod templates so a change rolls the pods."""
    text = json.dumps(document, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
