"""KubeRay RayServices: a tenant's agent, and a shared vLLM model on GPU workers."""

from dataclasses import dataclass
from typing import Any

import yaml

from business_operator.names import SERVES_LABEL
from business_operator.render.agent import (
    agent_env,
    render_config_map,
    resources,
    serve_config,
)
from business_operator.render.context import Tenant
from business_operator.render.index import (
    CONFIG_MOUNT_PATH,
    HOME_ENV,
    index_affinity,
    index_pod_labels,
    serving_storage,
)
from business_operator.render.pods import container, pod_spec
from katha.contracts.serving import AGENT_PORT

# Ray's token authentication (Ray >= 2.52, KubeRay >= 1.5.1): KubeRay generates a token in a
# Secret per cluster, sets RAY_AUTH_MODE and RAY_AUTH_TOKEN in every Ray container, and sends
# the token itself when it deploys Serve apps. The dashboard (job submission: code on the
# cluster) and GCS then refuse anyone without it; Serve's HTTP port stays as it is.
RAY_TOKEN_AUTH = {"mode": "token"}

RAY_PORTS = [
    {"name": "gcs", "containerPort": 6379},
    {"name": "dashboard", "containerPort": 8265},
    {"name": "client", "containerPort": 10001},
    {"name": "serve", "containerPort": AGENT_PORT},
]


def ray_pod_template(
    labels: dict[str, str],
    image: str,
    *,
    resources: dict[str, Any],
    mounts: list[dict[str, Any]],
    volumes: list[dict[str, Any]],
    service_account: str | None,
    env: list[dict[str, Any]] | None = None,
    ports: list[dict[str, Any]] | None = None,
    **pod_extra: Any,
) -> dict[str, Any]:
    ray = container(
        "ray",
        image,
        [],  # KubeRay supplies `ray start`; an empty command keeps the image's entrypoint
        resources=resources,
        ports=ports if ports is not None else RAY_PORTS,
        mounts=mounts,
        env=[*HOME_ENV, *(env or [])],
    )
    del ray["command"]
    return {
        "metadata": {"labels": labels},
        "spec": pod_spec([ray], volumes, service_account, **pod_extra),
    }


@dataclass(frozen=True)
class _AgentPods:
    """What the head and the workers share (the same objects, as the manifests did)."""

    labels: dict[str, str]
    mounts: list[dict[str, Any]]
    volumes: list[dict[str, Any]]
    affinity: dict[str, Any]


def _agent_pods(tenant: Tenant) -> _AgentPods:
    labels = {**tenant.labels(), SERVES_LABEL: "true", **index_pod_labels(tenant)}
    index_volumes, index_mounts = serving_storage(tenant)
    config_map = render_config_map(tenant)["metadata"]["name"]
    config = {"name": "config", "configMap": {"name": config_map}}
    mounts = [{"name": "config", "mountPath": CONFIG_MOUNT_PATH, "readOnly": True}, *index_mounts]
    return _AgentPods(labels, mounts, [config, *index_volumes], index_affinity(tenant))


def _agent_head(tenant: Tenant, pods: _AgentPods) -> dict[str, Any]:
    return ray_pod_template(
        pods.labels,
        tenant.platform.image,
        resources={"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"memory": "2Gi"}},
        mounts=pods.mounts,
        volumes=pods.volumes,
        service_account=tenant.child("agent"),
        env=agent_env(tenant),
        **pods.affinity,
    )


def _agent_workers(tenant: Tenant, pods: _AgentPods) -> dict[str, Any]:
    scaling, suspended = tenant.spec.scaling, tenant.spec.suspend
    worker = ray_pod_template(
        pods.labels,
        tenant.platform.image,
        resources=resources(tenant),
        mounts=pods.mounts,
        volumes=pods.volumes,
        service_account=tenant.child("agent"),
        env=agent_env(tenant),
        **pods.affinity,
    )
    return {
        "groupName": "agent",
        "replicas": 0 if suspended else max(scaling.min_replicas, 1),
        "minReplicas": 0 if suspended else scaling.min_replicas,
        "maxReplicas": scaling.max_replicas,
        "rayStartParams": {},
        "template": worker,
    }


def render_agent_rayservice(tenant: Tenant) -> dict[str, Any]:
    """The agent as a RayService: Serve config in place, workers autoscaled by KubeRay."""
    scaling = tenant.spec.scaling
    pods = _agent_pods(tenant)
    head = _agent_head(tenant, pods)
    workers = _agent_workers(tenant, pods)
    return {
        "apiVersion": "ray.io/v1",
        "kind": "RayService",
        "metadata": tenant.metadata("agent"),
        "spec": {
            "suspend": tenant.spec.suspend,
            "serveConfigV2": yaml.safe_dump(serve_config(tenant), sort_keys=False),
            "rayClusterConfig": {
                "rayVersion": tenant.platform.ray_version,
                "authOptions": dict(RAY_TOKEN_AUTH),
                "enableInTreeAutoscaling": scaling.max_replicas > scaling.min_replicas,
                "headGroupSpec": {
                    # The head schedules no replicas, so scaling workers scales the agent.
                    "rayStartParams": {"num-cpus": "0", "dashboard-host": "0.0.0.0"},  # noqa: S104
                    "template": head,
                },
                "workerGroupSpecs": [workers],
            },
        },
    }
