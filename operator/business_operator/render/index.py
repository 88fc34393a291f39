"""Where a Business's index lives, and the one workload that writes it.

The index is on a volume (ReadWriteOnce: every pod that mounts it on one node; or
ReadWriteMany: any node) or in S3-compatible object storage. Serving replicas only read
it. Each run of the writer is a Job (`render_writer_job`) that the operator starts on
create, on a knowledge change, on schedule and on request (index_runs.py), never two at
once. The writer reads the Business from its run's own ConfigMap, `configMapRef` sources
from the ConfigMaps they name (mounted), `file:` sources from the volume
`spec.knowledge.files` names, and leaves its summary as the termination message, which
the operator reads from the Pod's status.
"""

import json
from typing import Any

import yaml

from business_operator.names import INDEX_WRITER
from business_operator.render.context import Tenant, digest
from business_operator.render.pods import container, pod_spec
from katha.api import REFRESH_ANNOTATION
from katha.api.knowledge import VolumeAccessMode
from katha.contracts.serving import DOCUMENTS_SUFFIX, INDEX_MOUNT_PATH

CONFIG_MOUNT_PATH = "/etc/katha"
BUSINESS_KEY = "business.yaml"  # the Business as `python -m ingestion` reads it
# Source volumes are mounted beside the index, not inside the config mount: a ConfigMap
# volume is read-only, so the runtime could not make mount points in it.
KNOWLEDGE_DIR = "/var/lib/katha/knowledge"  # spec.knowledge.files, read-only
CONFIGMAPS_DIR = "/var/lib/katha/configmaps"  # one folder per ConfigMap: NAME/KEY
TERMINATION_LOG = "/dev/termination-log"
HOME_ENV = [{"name": "HOME", "value": "/tmp"}]  # noqa: S108 - a pod-local emptyDir
# What serving replicas write (conversations, unanswered questions) lives on the index
# volume too, under a folder no namespace can be named (namespaces are DNS labels), so
# the read-only index mount and this writable one never overlap.
STATE_MOUNT_PATH = "/var/lib/katha/state"
STATE_SUBPATH = ".katha-state"
POD_NAME_ENV = "KATHA_POD_NAME"
BLOCKED_CIDRS_ENV = "KATHA_INGEST_BLOCKED_CIDRS"

WRITER_COMPONENT = "index-writer"
# Pods that mount one ReadWriteOnce index volume carry this label, and must share a node.
INDEX_VOLUME_LABEL = "katha.dev/index-volume"
# On a writer Job: the knowledge it indexed (a label, to select by) and why it ran.
KNOWLEDGE_DIGEST_LABEL = "katha.dev/knowledge-digest"
TRIGGER_ANNOTATION = "katha.dev/trigger"
# Retries of one run (pods), and the longest one run may take.
WRITER_BACKOFF_LIMIT = 2
WRITER_DEADLINE_SECONDS = 3 * 3600


def knowledge_digest(tenant: Tenant) -> str:
    """Changes with anything the writer reads from the spec: then a new run starts."""
    return digest(tenant.spec.knowledge.model_dump(mode="json", by_alias=True))


def index_root(tenant: Tenant) -> str:
    """The root the writer writes to and the agent reads from (ROOT/NAMESPACE/NAME)."""
    store = tenant.spec.knowledge.storage.object_store
    return store.url if store is not None else INDEX_MOUNT_PATH


def on_one_node(tenant: Tenant) -> bool:
    storage = tenant.spec.knowledge.storage
    return storage.object_store is None and storage.access_mode is VolumeAccessMode.READ_WRITE_ONCE


def index_pod_labels(tenant: Tenant) -> dict[str, str]:
    return {INDEX_VOLUME_LABEL: tenant.name} if on_one_node(tenant) else {}


def index_affinity(tenant: Tenant) -> dict[str, Any]:
    """A ReadWriteOnce volume attaches to one node: every pod that mounts the tenant's
    index (replicas, the writer, the next ones during a rollout) goes to the node of those
    already there. The first pod matches its own term, so it goes anywhere."""
    if not on_one_node(tenant):
        return {}
    term = {
        "labelSelector": {"matchLabels": index_pod_labels(tenant)},
        "topologyKey": "kubernetes.io/hostname",
    }
    return {"affinity": {"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [term]}}}


def storage_env(tenant: Tenant) -> list[dict[str, Any]]:
    """Object storage credentials by reference (they never pass through the operator)."""
    store = tenant.spec.knowledge.storage.object_store
    if store is None:
        return []
    secret = store.credentials_secret_ref.name
    env: list[dict[str, Any]] = [
        {
            "name": "AWS_ACCESS_KEY_ID",
            "valueFrom": {"secretKeyRef": {"name": secret, "key": "accessKeyId"}},
        },
        {
            "name": "AWS_SECRET_ACCESS_KEY",
            "valueFrom": {"secretKeyRef": {"name": secret, "key": "secretAccessKey"}},
        },
    ]
    if store.region:
        env.append({"name": "AWS_REGION", "value": store.region})
    if store.endpoint:
        env.append({"name": "AWS_ENDPOINT_URL", "value": str(store.endpoint)})
    return env


def render_index_volume(tenant: Tenant) -> dict[str, Any] | None:
    """The index PVC (none with object storage); without an owner reference when the spec
    asks to keep it after deletion."""
    storage = tenant.spec.knowledge.storage
    if storage.object_store is not None:
        return None
    spec: dict[str, Any] = {
        "accessModes": [storage.access_mode.value],
        "resources": {"requests": {"storage": storage.size}},
    }
    if storage.storage_class_name:
        spec["storageClassName"] = storage.storage_class_name
    metadata = tenant.metadata("index", owned=not storage.retain_on_delete)
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": metadata, "spec": spec}


def serving_storage(tenant: Tenant) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Volumes and mounts of a serving replica: the index read-only, its own state writable
    (on the index volume; with object storage, a pod-local folder), and the Business's
    uploaded documents writable (the owner's uploads arrive through the agent; only the
    index writer reads them)."""
    state: dict[str, Any] = {"name": "state", "mountPath": STATE_MOUNT_PATH}
    if tenant.spec.knowledge.storage.object_store is not None:
        return [{"name": "state", "emptyDir": {}}], [state]
    volume: dict[str, Any] = {
        "name": "index",
        "persistentVolumeClaim": {"claimName": tenant.child("index")},
    }
    state_mount: dict[str, Any] = {"name": "index", "mountPath": STATE_MOUNT_PATH}
    if on_one_node(tenant):
        state_mount["subPath"] = STATE_SUBPATH
    else:
        # Replicas on several nodes never share one SQLite file (its write-ahead log needs
        # one host): each pod keeps its own folder. Conversations that must follow a
        # customer across replicas belong in spec.memory.postgres.
        state_mount["subPathExpr"] = f"{STATE_SUBPATH}/$({POD_NAME_ENV})"
    documents = f"{tenant.namespace}/{tenant.name}{DOCUMENTS_SUFFIX}"
    mounts: list[dict[str, Any]] = [
        {"name": "index", "mountPath": INDEX_MOUNT_PATH, "readOnly": True},
        state_mount,
        # Inside the read-only mount, the same folder of the volume, writable (kubelet makes
        # the subPath folder on the volume when it is not there yet).
        {"name": "index", "mountPath": f"{INDEX_MOUNT_PATH}/{documents}", "subPath": documents},
    ]
    return [volume], mounts


def pod_name_env(tenant: Tenant) -> list[dict[str, Any]]:
    """The pod's name, for its own state folder on a volume shared across nodes."""
    if tenant.spec.knowledge.storage.object_store is not None or on_one_node(tenant):
        return []
    field = {"fieldRef": {"fieldPath": "metadata.name"}}
    return [{"name": POD_NAME_ENV, "valueFrom": field}]


def _source_volumes(tenant: Tenant) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The ConfigMap keys sources name, as CONFIGMAPS_DIR/NAME/KEY in one projected volume,
    and the files volume; both read-only. Only the keys named are projected: a key that is
    missing keeps the pod from starting, with the reason in its Events."""
    volumes: list[dict[str, Any]] = []
    mounts: list[dict[str, Any]] = []
    keys: dict[str, set[str]] = {}
    for source in tenant.spec.knowledge.sources:
        ref = getattr(source, "config_map_ref", None)
        if ref is not None:
            keys.setdefault(str(ref.name), set()).add(str(ref.key))
    if keys:
        projected = [
            {
                "configMap": {
                    "name": name,
                    "items": [{"key": key, "path": f"{name}/{key}"} for key in sorted(wanted)],
                }
            }
            for name, wanted in sorted(keys.items())
        ]
        volumes.append({"name": "sources", "projected": {"sources": projected}})
        mounts.append({"name": "sources", "mountPath": CONFIGMAPS_DIR, "readOnly": True})
    files = tenant.spec.knowledge.files
    if files is not None:
        claim = {"claimName": files.claim_name, "readOnly": True}
        volumes.append({"name": "files", "persistentVolumeClaim": claim})
        mounts.append({"name": "files", "mountPath": KNOWLEDGE_DIR, "readOnly": True})
    return volumes, mounts


def writer_env(tenant: Tenant) -> list[dict[str, Any]]:
    """The cluster's own ranges, refused by the writer's fetches as by its NetworkPolicy
    (ranges outside the private ones, which the writer refuses anyway); the store's keys."""
    cidrs = tenant.platform.network.cluster_cidrs
    blocked = [{"name": BLOCKED_CIDRS_ENV, "value": json.dumps(list(cidrs))}] if cidrs else []
    return [*HOME_ENV, *blocked, *storage_env(tenant)]


def _writer_container(tenant: Tenant, mounts: list[dict[str, Any]]) -> dict[str, Any]:
    wanted = tenant.spec.agent.resources
    command = [
        "python",
        "-m",
        "ingestion",
        f"{CONFIG_MOUNT_PATH}/{BUSINESS_KEY}",
        "--index-dir",
        index_root(tenant),
        "--base-dir",
        KNOWLEDGE_DIR,
        "--configmap-dir",
        CONFIGMAPS_DIR,
        "--summary-file",
        TERMINATION_LOG,
    ]
    writer = container(
        INDEX_WRITER,
        tenant.platform.image,
        command,
        resources={
            "requests": {"cpu": wanted.cpu, "memory": wanted.memory},
            "limits": {"memory": wanted.memory},
        },
        ports=[],
        mounts=mounts,
        env=writer_env(tenant),
    )
    del writer["ports"]
    writer["terminationMessagePath"] = TERMINATION_LOG
    # The summary when there is one; a crash before it leaves the end of the log instead.
    writer["terminationMessagePolicy"] = "FallbackToLogsOnError"
    return writer


def run_name(tenant: Tenant, run: str) -> str:
    """A run's Job, and the ConfigMap that holds its input, share this name."""
    return tenant.child(f"index-{run}")


def render_writer_input(tenant: Tenant, run: str) -> dict[str, Any]:
    """The Business as this run reads it, in a ConfigMap of the run's own: a spec change
    while a run waits or works never changes what that run indexes (it gets a run of its
    own). Deleted with the run's Job when the operator prunes old runs."""
    business = {
        "apiVersion": "katha.dev/v1alpha1",
        "kind": "Business",
        "metadata": {"name": tenant.name, "namespace": tenant.namespace},
        "spec": tenant.spec.model_dump(mode="json", by_alias=True, exclude_none=True),
    }
    metadata = tenant.metadata(f"index-{run}", WRITER_COMPONENT)
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": metadata,
        "data": {BUSINESS_KEY: yaml.safe_dump(business, sort_keys=False, allow_unicode=True)},
    }


def render_writer_job(tenant: Tenant, run: str, trigger: str, request: str = "") -> dict[str, Any]:
    """One run of the index writer. `run` makes the name unique (a time stamp); `trigger`
    says why it runs; `request` is the Business's refresh annotation it answers, if any."""
    volumes, mounts = _source_volumes(tenant)
    config = {"name": "config", "configMap": {"name": run_name(tenant, run)}}
    volumes = [config, *volumes]
    mounts = [{"name": "config", "mountPath": CONFIG_MOUNT_PATH, "readOnly": True}, *mounts]
    if tenant.spec.knowledge.storage.object_store is None:
        claim = {"claimName": tenant.child("index")}
        volumes.append({"name": "index", "persistentVolumeClaim": claim})
        mounts.append({"name": "index", "mountPath": INDEX_MOUNT_PATH})
    labels = {
        **tenant.labels(WRITER_COMPONENT),
        KNOWLEDGE_DIGEST_LABEL: knowledge_digest(tenant),
    }
    metadata = tenant.metadata(f"index-{run}", WRITER_COMPONENT)
    metadata["labels"] = labels
    metadata["annotations"] = {TRIGGER_ANNOTATION: trigger, REFRESH_ANNOTATION: request}
    pod = pod_spec(
        [_writer_container(tenant, mounts)],
        volumes,
        tenant.child("agent"),
        restartPolicy="Never",
        **index_affinity(tenant),
    )
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": metadata,
        "spec": {
            "backoffLimit": WRITER_BACKOFF_LIMIT,
            "activeDeadlineSeconds": WRITER_DEADLINE_SECONDS,
            "template": {
                "metadata": {"labels": {**labels, **index_pod_labels(tenant)}},
                "spec": pod,
            },
        },
    }


FORGET_COMPONENT = "index-cleanup"


def render_forget_job(tenant: Tenant) -> dict[str, Any]:
    """Deletes the Business's index from object storage when the Business is deleted and
    `retainOnDelete` is false (a volume goes with its claim instead). Same image, identity,
    credentials and network rules as the writer."""
    command = [
        "python",
        "-m",
        "ingestion.forget",
        "--index-dir",
        index_root(tenant),
        tenant.namespace,
        tenant.name,
    ]
    cleaner = container(
        FORGET_COMPONENT,
        tenant.platform.image,
        command,
        resources={"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"memory": "512Mi"}},
        ports=[],
        mounts=[],
        env=writer_env(tenant),
    )
    del cleaner["ports"]
    labels = tenant.labels(FORGET_COMPONENT)
    # Not owned by the Business, nor run as its ServiceAccount: a foreground deletion
    # removes what the Business owns while this still has to run (the operator deletes it).
    metadata = tenant.metadata("index-forget", FORGET_COMPONENT, owned=False)
    pod = pod_spec([cleaner], [], None, restartPolicy="Never")
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": metadata,
        "spec": {
            "backoffLimit": WRITER_BACKOFF_LIMIT,
            "activeDeadlineSeconds": 600,
            "template": {"metadata": {"labels": labels}, "spec": pod},
        },
    }
