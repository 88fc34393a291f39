"""The children of a Business: config, index volume, identity, network rules, Deployment."""

import json
from typing import Any

import yaml

from business_operator.names import INDEX_WRITER, SERVES_LABEL
from business_operator.render.context import Tenant, digest
from business_operator.render.pods import container, pod_spec
from katha.contracts.serving import AGENT_IMPORT_PATH, AGENT_PORT, INDEX_MOUNT_PATH

CONFIG_MOUNT_PATH = "/etc/katha"
# The root filesystem is read-only; Ray and Python caches go to the /tmp emptyDir.
HOME_ENV = [{"name": "HOME", "value": "/tmp"}]  # noqa: S108 - a pod-local emptyDir
# `serve run` starts a local Ray: with token auth it writes a fresh token to $HOME/.ray and
# its dashboard and GCS refuse callers without it. Explicit, not left to Ray's default.
# (In a RayService, KubeRay sets this itself: see render/ray.py.)
LOCAL_RAY_AUTH_ENV = [{"name": "RAY_AUTH_MODE", "value": "token"}]
SERVE_CONFIG_KEY = "serve-config.yaml"
ARGS_KEY = "app-args.json"
# The Business as `python -m ingestion` reads it: the index writer's input.
BUSINESS_KEY = "business.yaml"
# Where `file:` sources are mounted (the agent's default KATHA_AGENT_KNOWLEDGE_DIR).
KNOWLEDGE_DIR = f"{CONFIG_MOUNT_PATH}/knowledge"
TERMINATION_LOG = "/dev/termination-log"
# What serving replicas write (conversations, unanswered questions) lives on the index
# volume too, under a folder no namespace can be named (namespaces are DNS labels), so
# the read-only index mount and this writable one never overlap.
STATE_MOUNT_PATH = "/var/lib/katha/state"
STATE_SUBPATH = ".katha-state"
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
# ... and for the index writer (ingestion.settings.IngestionSettings).
BLOCKED_CIDRS_ENV = "KATHA_INGEST_BLOCKED_CIDRS"


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
    return [*READ_ONLY_ENV, *memory_env(tenant), *api_key_env(tenant)]


def api_key_env(tenant: Tenant) -> list[dict[str, Any]]:
    """The LLM endpoint's and Tavily's API keys, from the Secrets the Business names in its
    own namespace; like the Postgres URL, they never pass through the operator."""
    env: list[dict[str, Any]] = []
    model = tenant.spec.model
    if model is not None and model.endpoint is not None and model.endpoint.api_key_secret_ref:
        ref = model.endpoint.api_key_secret_ref
        source = {"secretKeyRef": {"name": ref.name, "key": ref.key}}
        env.append({"name": LLM_API_KEY_ENV, "valueFrom": source})
    search = tenant.spec.web_search
    if search.enabled and search.api_key_secret_ref is not None:
        ref = search.api_key_secret_ref
        source = {"secretKeyRef": {"name": ref.name, "key": ref.key}}
        env.append({"name": TAVILY_API_KEY_ENV, "valueFrom": source})
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
    business = {
        "apiVersion": "katha.dev/v1alpha1",
        "kind": "Business",
        "metadata": {"name": tenant.name, "namespace": tenant.namespace},
        "spec": tenant.spec.model_dump(mode="json", by_alias=True, exclude_none=True),
    }
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": tenant.metadata("agent-config"),
        "data": {
            SERVE_CONFIG_KEY: yaml.safe_dump(config, sort_keys=False, allow_unicode=True),
            ARGS_KEY: json.dumps(config["applications"][0]["args"], ensure_ascii=False),
            BUSINESS_KEY: yaml.safe_dump(business, sort_keys=False, allow_unicode=True),
        },
    }


def index_writer(tenant: Tenant) -> dict[str, Any]:
    """The one writer of the tenant's index: an init container in the pod that owns the
    volume, so the agent starts only on a committed version. Its summary (documents,
    chunks, version, failed sources) is its termination message, which the operator reads
    from the Pod's status; it exits 0 whenever there is a committed version to serve."""
    writer = container(
        INDEX_WRITER,
        tenant.platform.image,
        [
            "python",
            "-m",
            "ingestion",
            f"{CONFIG_MOUNT_PATH}/{BUSINESS_KEY}",
            "--index-dir",
            INDEX_MOUNT_PATH,
            "--base-dir",
            KNOWLEDGE_DIR,
            "--summary-file",
            TERMINATION_LOG,
        ],
        resources=resources(tenant),
        ports=[],
        mounts=[
            {"name": "config", "mountPath": CONFIG_MOUNT_PATH, "readOnly": True},
            {"name": "index", "mountPath": INDEX_MOUNT_PATH},
        ],
        env=[*HOME_ENV, *writer_env(tenant)],
    )
    del writer["ports"]
    writer["terminationMessagePath"] = TERMINATION_LOG
    writer["terminationMessagePolicy"] = "File"
    return writer


def writer_env(tenant: Tenant) -> list[dict[str, Any]]:
    """The cluster's own ranges, refused by the writer's fetches as by its NetworkPolicy
    (ranges outside the private ones, which the writer refuses anyway)."""
    cidrs = tenant.platform.network.cluster_cidrs
    return [{"name": BLOCKED_CIDRS_ENV, "value": json.dumps(list(cidrs))}] if cidrs else []


def serving_mounts() -> list[dict[str, Any]]:
    """Config and index read-only; only the agent's own state is writable."""
    return [
        {"name": "config", "mountPath": CONFIG_MOUNT_PATH, "readOnly": True},
        {"name": "index", "mountPath": INDEX_MOUNT_PATH, "readOnly": True},
        {"name": "index", "mountPath": STATE_MOUNT_PATH, "subPath": STATE_SUBPATH},
    ]


def knowledge_digest(tenant: Tenant) -> str:
    """Changes with the knowledge sources: the pods that hold the writer must be recreated."""
    return digest(tenant.spec.knowledge.model_dump(mode="json", by_alias=True))


def render_index_volume(tenant: Tenant) -> dict[str, Any]:
    """The index PVC; without an owner reference when the spec asks to keep it after deletion."""
    storage = tenant.spec.knowledge.storage
    spec: dict[str, Any] = {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": storage.size}},
    }
    if storage.storage_class_name:
        spec["storageClassName"] = storage.storage_class_name
    metadata = tenant.metadata("index", owned=not storage.retain_on_delete)
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": metadata, "spec": spec}


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
    pod_labels = {**tenant.labels(), SERVES_LABEL: "true"}
    agent = container(
        "agent",
        tenant.platform.image,
        ["serve", "run", f"{CONFIG_MOUNT_PATH}/{SERVE_CONFIG_KEY}"],
        resources=resources(tenant),
        ports=[{"name": "http", "containerPort": AGENT_PORT}],
        mounts=serving_mounts(),
        env=[*HOME_ENV, *LOCAL_RAY_AUTH_ENV, *agent_env(tenant)],
    )
    probe = {"httpGet": {"path": "/-/healthz", "port": AGENT_PORT}, "periodSeconds": 10}
    agent["readinessProbe"] = {**probe, "initialDelaySeconds": 5}
    agent["livenessProbe"] = {**probe, "initialDelaySeconds": 60, "failureThreshold": 6}
    volumes = [
        {"name": "config", "configMap": {"name": config_map["metadata"]["name"]}},
        {"name": "index", "persistentVolumeClaim": {"claimName": tenant.child("index")}},
    ]
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": tenant.metadata("agent"),
        "spec": {
            "replicas": 0 if tenant.spec.suspend else 1,
            # One writer on a ReadWriteOnce index volume: never two pods at once. A
            # knowledge change changes the config digest, so a new pod re-runs the writer.
            "strategy": {"type": "Recreate"},
            "selector": {"matchLabels": selector(tenant)},
            "template": {
                "metadata": {
                    "labels": pod_labels,
                    "annotations": {"katha.dev/config-digest": digest(config_map["data"])},
                },
                "spec": pod_spec(
                    [agent], volumes, tenant.child("agent"), initContainers=[index_writer(tenant)]
                ),
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
