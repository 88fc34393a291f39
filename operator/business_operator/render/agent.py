"""The agent of a Business: its config, identity, Service and Deployment (the index and
its writer: render/index.py)."""

import json
from typing import Any

import yaml

from business_operator.names import SERVES_LABEL
from business_operator.render.context import Tenant, digest
from business_operator.render.index import (
    CONFIG_MOUNT_PATH,
    HOME_ENV,
    STATE_MOUNT_PATH,
    index_affinity,
    index_pod_labels,
    pod_name_env,
    serving_storage,
    storage_env,
)
from business_operator.render.pods import container, pod_spec
from katha.contracts.serving import AGENT_IMPORT_PATH, AGENT_PORT

# `serve run` starts a local Ray: with token auth it writes a fresh token to $HOME/.ray and
# its dashboard and GCS refuse callers without it. Explicit, not left to Ray's default.
# (In a RayService, KubeRay sets this itself: see render/ray.py.)
LOCAL_RAY_AUTH_ENV = [{"name": "RAY_AUTH_MODE", "value": "token"}]
SERVE_CONFIG_KEY = "serve-config.yaml"
ARGS_KEY = "app-args.json"
READ_ONLY_ENV = [
    {"name": "KATHA_AGENT_INDEX_READ_ONLY", "value": "true"},
    {"name": "KATHA_AGENT_STATE_DIR", "value": STATE_MOUNT_PATH},
]
# The agent's settings (agent_runtime.settings.AgentSettings) for conversation memory.
RETENTION_ENV = "KATHA_AGENT_CONVERSATION_RETENTION_DAYS"
POSTGRES_URL_ENV = "KATHA_AGENT_POSTGRES_URL"
# ... and for the API keys the Business names (model.endpoint, webSearch with Tavily).
LLM_API_KEY_ENV = "KATHA_AGENT_LLM_API_KEY"
TAVILY_API_KEY_ENV = "KATHA_AGENT_TAVILY_API_KEY"
# ... and for the endpoints that read voice notes and photos (spec.voice, spec.vision).
VOICE_API_KEY_ENV = "KATHA_AGENT_VOICE_API_KEY"
VISION_API_KEY_ENV = "KATHA_AGENT_VISION_API_KEY"


def serve_config(tenant: Tenant) -> dict[str, Any]:
    """The Ray Serve config: one application running the shared builder with this tenant's args."""
    scaling = tenant.spec.scaling
    return {
        "proxy_location": "EveryNode",
        "http_options": {"host": "0.0.0.0", "port": AGENT_PORT},  # noqa: S104 - in-pod server
        "applications": [
            {
                "name": tenant.name,
                "route_prefix": "/",
                "import_path": AGENT_IMPORT_PATH,
                "args": tenant.app_args().model_dump(mode="json", by_alias=True, exclude_none=True),
                "deployments": [
                    {
                        "name": "Agent",
                        "max_ongoing_requests": scaling.max_ongoing_requests,
                        "autoscaling_config": {
                            "min_replicas": scaling.min_replicas,
                            "max_replicas": scaling.max_replicas,
                            "target_ongoing_requests": scaling.target_ongoing_requests,
                        },
                    }
                ],
            }
        ],
    }


def agent_env(tenant: Tenant) -> list[dict[str, Any]]:
    """Everything the agent container needs from the environment; secrets by reference.
    Serving replicas only read the index: the index writer alone writes it."""
    return [
        *pod_name_env(tenant),
        *READ_ONLY_ENV,
        *memory_env(tenant),
        *api_key_env(tenant),
        *storage_env(tenant),
    ]


def api_key_env(tenant: Tenant) -> list[dict[str, Any]]:
    """The API keys of the LLM, voice and vision endpoints and of Tavily, from the Secrets
    the Business names in its own namespace; like the Postgres URL, they never pass
    through the operator."""
    spec = tenant.spec
    search = spec.web_search
    keys = [
        (LLM_API_KEY_ENV, spec.model.endpoint if spec.model else None),
        (VOICE_API_KEY_ENV, spec.voice.endpoint if spec.voice else None),
        (VISION_API_KEY_ENV, spec.vision.endpoint if spec.vision else None),
        (TAVILY_API_KEY_ENV, search if search.enabled else None),
    ]
    env: list[dict[str, Any]] = []
    for name, holder in keys:
        ref = holder.api_key_secret_ref if holder is not None else None
        if ref is not None:
            source = {"secretKeyRef": {"name": ref.name, "key": ref.key}}
            env.append({"name": name, "valueFrom": source})
    return env


def memory_env(tenant: Tenant) -> list[dict[str, Any]]:
    """The agent's memory settings; the Postgres URL by reference, so it never leaves its Secret."""
    memory = tenant.spec.memory
    days = memory.retention_days
    env: list[dict[str, Any]] = [
        {"name": RETENTION_ENV, "value": str(int(days)) if days.is_integer() else repr(days)}
    ]
    if memory.postgres is not None:
        ref = memory.postgres.secret_key_ref
        source = {"secretKeyRef": {"name": ref.name, "key": ref.key}}
        env.append({"name": POSTGRES_URL_ENV, "valueFrom": source})
    return env


def render_config_map(tenant: Tenant) -> dict[str, Any]:
    config = serve_config(tenant)
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": tenant.metadata("agent-config"),
        "data": {
            SERVE_CONFIG_KEY: yaml.safe_dump(config, sort_keys=False, allow_unicode=True),
            ARGS_KEY: json.dumps(config["applications"][0]["args"], ensure_ascii=False),
        },
    }


def render_service_account(tenant: Tenant) -> dict[str, Any]:
    # The agent never talks to the Kubernetes API, so it gets no token at all.
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": tenant.metadata("agent"),
        "automountServiceAccountToken": False,
    }


def render_service(tenant: Tenant) -> dict[str, Any]:
    serving = {**selector(tenant), SERVES_LABEL: "true"}
    port = {"name": "http", "port": AGENT_PORT, "targetPort": AGENT_PORT, "protocol": "TCP"}
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": tenant.metadata("agent"),
        "spec": {"type": "ClusterIP", "selector": serving, "ports": [port]},
    }


def render_deployment(tenant: Tenant) -> dict[str, Any]:
    """The agent as one pod running a single-node Ray Serve: for clusters without KubeRay."""
    config_map = render_config_map(tenant)
    pod_labels = {**tenant.labels(), SERVES_LABEL: "true", **index_pod_labels(tenant)}
    index_volumes, mounts = serving_storage(tenant)
    agent = container(
        "agent",
        tenant.platform.image,
        ["serve", "run", f"{CONFIG_MOUNT_PATH}/{SERVE_CONFIG_KEY}"],
        resources=resources(tenant),
        ports=[{"name": "http", "containerPort": AGENT_PORT}],
        mounts=[{"name": "config", "mountPath": CONFIG_MOUNT_PATH, "readOnly": True}, *mounts],
        env=[*HOME_ENV, *LOCAL_RAY_AUTH_ENV, *agent_env(tenant)],
    )
    probe = {"httpGet": {"path": "/-/healthz", "port": AGENT_PORT}, "periodSeconds": 10}
    agent["readinessProbe"] = {**probe, "initialDelaySeconds": 5}
    agent["livenessProbe"] = {**probe, "initialDelaySeconds": 60, "failureThreshold": 6}
    volumes = [
        {"name": "config", "configMap": {"name": config_map["metadata"]["name"]}},
        *index_volumes,
    ]
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": tenant.metadata("agent"),
        "spec": {
            "replicas": 0 if tenant.spec.suspend else 1,
            # One pod on one node; no second one beside it while it starts (a single
            # replica runs Ray Serve in-process). The index writer is a Job of its own.
            "strategy": {"type": "Recreate"},
            "selector": {"matchLabels": selector(tenant)},
            "template": {
                "metadata": {
                    "labels": pod_labels,
                    "annotations": {"katha.dev/config-digest": digest(config_map["data"])},
                },
                "spec": pod_spec([agent], volumes, tenant.child("agent"), **index_affinity(tenant)),
            },
        },
    }


def selector(tenant: Tenant) -> dict[str, str]:
    labels = tenant.labels()
    keys = ("app.kubernetes.io/instance", "app.kubernetes.io/component")
    return {key: labels[key] for key in keys}


def resources(tenant: Tenant) -> dict[str, Any]:
    wanted = tenant.spec.agent.resources
    return {
        "requests": {"cpu": wanted.cpu, "memory": wanted.memory},
        "limits": {"memory": wanted.memory},
    }
