"""One reconcile's part in a Business's index: start the writer Job when a run is due, prune
old runs, and report the newest result (index_runs.py decides; this talks to the API)."""

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from business_operator.index_runs import Plan, expired, observe, plan, result, run_id
from business_operator.kube import KubeApiError, KubeClient
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
    return missing


async def run_index(
    context: HasKube,
    tenant: Tenant,
    annotations: dict[str, str],
    *,
    may_start: bool,
    now: datetime | None = None,
) -> IndexOutcome:
    """Start a writer run when one is due (and `may_start`), delete runs beyond the kept
    history, and return KnowledgeIndexed with `status.knowledge`."""
    now = now or datetime.now(UTC)
    kube, selector = context.kube, writer_selector(tenant)
    missing = await missing_sources(kube, tenant) if may_start else []
    jobs = await kube.list_labelled("batch/v1", "Job", tenant.namespace, selector)
    runs = observe(jobs)
    request = annotations.get(REFRESH_ANNOTATION, "")
    interval = parse_duration(tenant.spec.knowledge.refresh_interval)
    due = plan(runs, knowledge_digest(tenant), request, interval, now)
    started = None
    if due.trigger is not None and may_start and not missing:
        run = run_id(now)
        await kube.apply(render_writer_input(tenant, run))  # what this run reads
        job = render_writer_job(tenant, run, due.trigger, request)
        try:
            created = await kube.create(job)
        except KubeApiError as error:
            if error.status != 409:  # 409: this run exists already (a reconcile beside us)
                raise
            created = None
        runs = observe([*jobs, created or job])
        started = f"Job {job['metadata']['name']} ({due.trigger})"
        due = Plan(None, None)
    for old in expired(runs):
        await kube.delete("batch/v1", "Job", tenant.namespace, old.name)
        await kube.delete("v1", "ConfigMap", tenant.namespace, old.name)  # its input
    pods = await kube.list_labelled("v1", "Pod", tenant.namespace, selector)
    check, report = result(runs, pods, due)
    if missing:
        limit = f" ({CONFIGMAP_LIMIT})" if any("ConfigMap" in what for what in missing) else ""
        waiting = f"The index writer waits for its sources: {'; '.join(missing)}{limit}"
        check = Check(False, "SourceMissing", waiting)
    return IndexOutcome(check, report, started)


async def forget_index(context: HasKube, tenant: Tenant) -> str | None:
    """Run the Job that deletes the tenant's index from object storage; what it still
    waits for, or None once it finished. A Job that failed is reported and not waited
    for again: a Business must not hang in deletion because a bucket is gone."""
    job = render_forget_job(tenant)
    name = job["metadata"]["name"]
    found = await context.kube.get("batch/v1", "Job", tenant.namespace, name)
    if found is None:
        await context.kube.create(job)
        return f"Job {name} deletes the index from {index_root_of(tenant)}"
    (run,) = observe([found])
    if run.finished is None:
        return f"Job {name} is deleting the index from {index_root_of(tenant)}"
    if not run.succeeded:
        log.warning("index.forget_failed", job=name)
    return None


def index_root_of(tenant: Tenant) -> str:
    store = tenant.spec.knowledge.storage.object_store
    return store.url if store is not None else "its volume"
