"""One reconcile's part in a Business's index: start the writer Job when a run is due, prune
old runs, and report the newest result (index_runs.py decides; this talks to the API)."""

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from business_operator.index_runs import (
    Plan,
    expired,
    observe,
    plan,
    remembered,
    result,
    run_id,
)
from business_operator.kube import KubeApiError, KubeClient, secret_has_key
from business_operator.render.context import Tenant
from business_operator.render.index import (
    WRITER_COMPONENT,
    knowledge_digest,
    render_forget_job,
    render_writer_input,
    render_writer_job,
)
from business_operator.status import Check
from katha.api import REFRESH_ANNOTATION
from katha.api.quantities import parse_duration
from katha.observability import get_logger

log = get_logger("operator")


class HasKube(Protocol):
    @property
    def kube(self) -> KubeClient: ...


@dataclass(frozen=True)
class IndexOutcome:
    check: Check  # KnowledgeIndexed
    report: dict[str, Any] = field(default_factory=dict)  # status.knowledge
    started: str | None = None  # "Job <name> (<trigger>)" when this reconcile started a run


def writer_selector(tenant: Tenant) -> dict[str, str]:
    labels = tenant.labels(WRITER_COMPONENT)
    keys = ("app.kubernetes.io/instance", "app.kubernetes.io/component")
    return {key: labels[key] for key in keys}


CONFIGMAP_LIMIT = (
    "a ConfigMap holds at most 1 MiB: put larger files on the volume spec.knowledge.files "
    "names and give them as `file:` sources"
)


async def missing_sources(kube: KubeClient, tenant: Tenant) -> list[str]:
    """What the writer's pod would wait for forever (the kubelet cannot mount it): a
    ConfigMap or key a source names, or the files volume's claim, that does not exist."""
    wanted: dict[str, set[str]] = {}
    for source in tenant.spec.knowledge.sources:
        ref = getattr(source, "config_map_ref", None)
        if ref is not None:
            wanted.setdefault(str(ref.name), set()).add(str(ref.key))
    missing = []
    for name, keys in sorted(wanted.items()):
        found = await kube.get("v1", "ConfigMap", tenant.namespace, name)
        if found is None:
            missing.append(f"ConfigMap {name} does not exist")
            continue
        present = {*(found.get("data") or {}), *(found.get("binaryData") or {})}
        missing += [f"ConfigMap {name} has no key {key}" for key in sorted(keys - present)]
    files = tenant.spec.knowledge.files
    if files is not None:
        claim = files.claim_name
        if await kube.get("v1", "PersistentVolumeClaim", tenant.namespace, claim) is None:
            missing.append(f"PersistentVolumeClaim {claim} (spec.knowledge.files) does not exist")
    return missing + await _missing_store_keys(kube, tenant)


async def _missing_store_keys(kube: KubeClient, tenant: Tenant) -> list[str]:
    """The object store's Secret and keys: without them the writer's pod never starts."""
    store = tenant.spec.knowledge.storage.object_store
    if store is None:
        return []
    name = str(store.credentials_secret_ref.name)
    secret = await kube.get("v1", "Secret", tenant.namespace, name)
    if secret is None:
        return [f"Secret {name} (objectStore.credentialsSecretRef) does not exist"]
    keys = ("accessKeyId", "secretAccessKey")
    return [f"Secret {name} has no key {key}" for key in keys if not secret_has_key(secret, key)]


async def run_index(
    context: HasKube,
    tenant: Tenant,
    annotations: dict[str, str],
    *,
    may_start: bool,
    previous: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> IndexOutcome:
    """Start a writer run when one is due (and `may_start`), delete runs beyond the kept
    history, and return KnowledgeIndexed with `status.knowledge`."""
    now = now or datetime.now(UTC)
    kube, selector = context.kube, writer_selector(tenant)
    missing = await missing_sources(kube, tenant) if may_start else []
    jobs = await kube.list_labelled("batch/v1", "Job", tenant.namespace, selector)
    runs = observe(jobs)
    last_known = remembered(previous)  # `previous`: the status.knowledge written last time
    if not any(run.finished is not None for run in runs) and last_known is not None:
        runs = [last_known, *runs]
    request = annotations.get(REFRESH_ANNOTATION, "")
    interval = parse_duration(tenant.spec.knowledge.refresh_interval)
    due = plan(runs, knowledge_digest(tenant), request, interval, now)
    started = None
    if due.trigger is not None and may_start and not missing:
        # Named after what it answers: a timer and a change handler that both decide to
        # start this run make one Job (the second gets 409), never two writers.
        run = run_id(due.trigger, knowledge_digest(tenant), request, runs)
        job = render_writer_job(tenant, run, due.trigger, request)
        created = await _start(kube, tenant, run, job)
        runs = observe([*jobs, created or job])
        if created is not None:
            started = f"Job {job['metadata']['name']} ({due.trigger})"
        due = Plan(None, None)
    for old in expired(runs):
        await kube.delete("batch/v1", "Job", tenant.namespace, old.name)  # its input goes too
    pods = await kube.list_labelled("v1", "Pod", tenant.namespace, selector)
    check, report = result(runs, pods, due)
    if previous and last_known is not None and "documents" not in report:
        # The last run's pod is gone with its Job: its figures stay as they were reported.
        kept = ("documents", "chunks", "indexVersion", "lastIndexed", "failedSources")
        report.update({key: previous[key] for key in kept if key in previous})
    if missing:
        limit = f" ({CONFIGMAP_LIMIT})" if any("ConfigMap" in what for what in missing) else ""
        waiting = f"The index writer waits for its sources: {'; '.join(missing)}{limit}"
        check = Check(False, "SourceMissing", waiting)
    return IndexOutcome(check, report, started)


async def _start(
    kube: KubeClient, tenant: Tenant, run: str, job: dict[str, Any]
) -> dict[str, Any] | None:
    """Create the run's Job, then its input, owned by the Job (it goes with the Job); None
    when another reconcile created this run first."""
    try:
        created = await kube.create(job)
    except KubeApiError as error:
        if error.status == 409:
            return None
        raise
    if created is None:
        raise KubeApiError(404, f"namespace {tenant.namespace} does not exist")
    meta = created["metadata"]
    owner = {"apiVersion": "batch/v1", "kind": "Job", "name": meta["name"], "uid": meta["uid"]}
    config = render_writer_input(tenant, run)
    config["metadata"]["ownerReferences"] = [owner]
    try:
        await kube.apply(config)  # until it exists, the pod waits to mount it
    except KubeApiError:
        await kube.delete("batch/v1", "Job", tenant.namespace, meta["name"])
        raise
    return created


async def forget_index(context: HasKube, tenant: Tenant) -> str | None:
    """Delete the tenant's index from object storage: stop its writer runs, then run the
    cleanup Job; what the deletion still waits for, or None once it may go on.

    It never holds a Business for ever: a cleanup that cannot start (the namespace is
    being deleted, the store's Secret is gone) or that failed is logged and given up;
    the Job's deadline bounds one that cannot run."""
    kube, namespace = context.kube, tenant.namespace
    selector = writer_selector(tenant)
    for run in observe(await kube.list_labelled("batch/v1", "Job", namespace, selector)):
        if run.finished is None:  # a writer still running would write again after cleanup
            await kube.delete("batch/v1", "Job", namespace, run.name)
    writers = await kube.list_labelled("v1", "Pod", namespace, selector)
    if any((pod.get("status") or {}).get("phase") in ("Pending", "Running") for pod in writers):
        return "the index writer's pods are stopping"
    job = render_forget_job(tenant)
    name = job["metadata"]["name"]
    found = await kube.get("batch/v1", "Job", namespace, name)
    if found is None:
        if await _missing_store_keys(kube, tenant):
            log.warning("index.forget_skipped", reason="the object store's Secret is gone")
            return None
        try:
            await kube.create(job)
        except KubeApiError as error:
            if error.transient:
                raise
            log.warning("index.forget_skipped", reason=str(error))
            return None
        return f"Job {name} deletes the index from {index_root_of(tenant)}"
    (run,) = observe([found])
    if run.finished is None:
        return f"Job {name} is deleting the index from {index_root_of(tenant)}"
    if not run.succeeded:
        log.warning("index.forget_failed", job=name)
    await kube.delete("batch/v1", "Job", namespace, name)  # it has no owner to go with
    return None


def index_root_of(tenant: Tenant) -> str:
    store = tenant.spec.knowledge.storage.object_store
    return store.url if store is not None else "its volume"
