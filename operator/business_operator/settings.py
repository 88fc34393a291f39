"""The operator's settings, read from KATHA_OPERATOR_* environment variables."""

import ipaddress
from typing import Any

from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from business_operator.render.context import (
    DNS_LABELS,
    DNS_NAMESPACE,
    KUBERAY_LABELS,
    KUBERAY_NAMESPACE,
    POSTGRES_PORT,
    PROMETHEUS_LABELS,
    PROMETHEUS_NAMESPACE,
    Network,
)
from katha.settings import ComponentSettings


class OperatorSettings(ComponentSettings):
    model_config = SettingsConfigDict(env_prefix="KATHA_OPERATOR_")

    platform_namespace: str = "katha-system"
    image: str = Field(default="ghcr.io/katha-dev/katha:0.1.0", min_length=1)
    ray_version: str = "2.60.0"
    reconcile_interval_seconds: float = Field(
        default=60.0, ge=1, le=3600, description="How often drift is repaired and status refreshed."
    )
    gpu_node_selector: dict[str, str] = Field(default_factory=dict)
    router_labels: dict[str, str] = Field(
        default_factory=lambda: {"app.kubernetes.io/component": "router"},
        description="Labels of the router pods, allowed through each agent's NetworkPolicy.",
    )
    # Who else runs in the cluster, for every agent's and LanguageModel's NetworkPolicy.
    kuberay_namespace: str = Field(default=KUBERAY_NAMESPACE, min_length=1)
    kuberay_labels: dict[str, str] = Field(
        default_factory=lambda: dict(KUBERAY_LABELS),
        min_length=1,
        description="Labels of the KubeRay operator's pods: the only callers of Ray dashboards.",
    )
    prometheus_namespace: str = Field(default=PROMETHEUS_NAMESPACE, min_length=1)
    prometheus_labels: dict[str, str] = Field(
        default_factory=lambda: dict(PROMETHEUS_LABELS), min_length=1
    )
    dns_namespace: str = Field(default=DNS_NAMESPACE, min_length=1)
    dns_labels: dict[str, str] = Field(default_factory=lambda: dict(DNS_LABELS), min_length=1)
    cluster_cidrs: list[str] = Field(
        default_factory=list,
        description="Pod and Service ranges outside the private ones, kept from agents' internet.",
    )
    postgres_port: int = Field(default=POSTGRES_PORT, ge=1, le=65535)
    postgres_peers: list[dict[str, Any]] | None = Field(
        default=None,
        description="NetworkPolicy peers where Businesses' Postgres runs (default: anywhere "
        "but link-local, on postgres_port only).",
    )
    agent_extra_egress: list[dict[str, Any]] = Field(
        default_factory=list,
        description="NetworkPolicy egress rules every agent also gets (an in-cluster LLM...).",
    )
    kube_api_url: str | None = Field(
        default=None,
        pattern=r"^https?://",
        description="Talk to this API server without credentials (tests, kubectl proxy).",
    )
    liveness_port: int = Field(default=8080, ge=1, le=65535)
    # A reconcile mostly waits on the API server, so many may run at once; the bound keeps
    # a restart with hundreds of tenants from flooding the API server (64: 500 Businesses
    # in 46 s against the emulator; 16: 162 s; 4: 250 s for 200).
    max_concurrent_reconciles: int = Field(default=64, ge=1, le=1000)

    @field_validator("cluster_cidrs")
    @classmethod
    def _cidrs(cls, cidrs: list[str]) -> list[str]:
        # A typo here would otherwise surface as an API server error on every agent's policy.
        return [str(ipaddress.ip_network(cidr, strict=True)) for cidr in cidrs]

    def network(self) -> Network:
        return Network(
            kuberay_namespace=self.kuberay_namespace,
            kuberay_labels=dict(self.kuberay_labels),
            prometheus_namespace=self.prometheus_namespace,
            prometheus_labels=dict(self.prometheus_labels),
            dns_namespace=self.dns_namespace,
            dns_labels=dict(self.dns_labels),
            cluster_cidrs=tuple(self.cluster_cidrs),
            postgres_port=self.postgres_port,
            postgres_peers=None if self.postgres_peers is None else tuple(self.postgres_peers),
            agent_extra_egress=tuple(self.agent_extra_egress),
        )
