"""When a Business's index writer runs, and what its runs said: read from its Jobs and their
Pods, never by calling an agent.

A run starts when there is none yet (create), when the knowledge in the spec changed, when
the Business's refresh annotation has a value no run answered yet (`katha refresh`), and
when `refreshInterval` has passed since the last run finished (a failed run is retried
sooner). Never two at once: while a run is active, the next waits for it. The writer's
summary (documents, chunks, version, failed sources) is its termination message, which
the API server keeps in the Pod's status (RBAC: get/list pods and jobs).
"""

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ValidationError

from business_operator.names import INDEX_WRITER
from business_operator.render.index import (
    KNOWLEDGE_DIGEST_LABEL,
    TRIGGER_ANNOTATION,
)
from business_operator.status import Check
from katha.api import REFRESH_ANNOTATION
from katha.contracts.serving import IndexStats

# A failed run is tried again after this long at most (or the interval, if shorter).
FAILED_RETRY = timedelta(hours=1)
# Finished runs kept for `kubectl get jobs` and the status; older ones are deleted.
KEPT_RUNS = 3
REPORTED = {"documents", "chunks", "index_version", "last_indexed"}


@dataclass(frozen=True)
class Run:
    """One writer Job as the API server has it."""

    name: str
    created: datetime
    digest: str
    request: str
    trigger: str
    finished: datetime | None  # None while it runs
    succeeded: bool


@dataclass(frozen=True)
class Plan:
    trigger: str | None  # why a run starts now; None: not now
    next_run: datetime | None  # when the schedule starts one (None while one runs)


def parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def observe(jobs: list[dict[str, Any]]) -> list[Run]:
    """The Business's writer runs, oldest first."""
    runs = []
    for job in jobs:
        meta, status = job.get("metadata") or {}, job.get("status") or {}
        terminal = {
            item.get("type"): item
            for item in status.get("conditions") or []
            if item.get("status") == "True" and item.get("type") in ("Complete", "Failed")
        }
        finished = None
        if "Complete" in terminal:
            finished = parse_time(status.get("completionTime")) or parse_time(
                terminal["Complete"].get("lastTransitionTime")
            )
        elif "Failed" in terminal:
            finished = parse_time(terminal["Failed"].get("lastTransitionTime"))
        annotations = meta.get("annotations") or {}
        runs.append(
            Run(
                name=str(meta.get("name")),
                created=parse_time(meta.get("creationTimestamp")) or datetime.now(UTC),
                digest=(meta.get("labels") or {}).get(KNOWLEDGE_DIGEST_LABEL, ""),
                request=annotations.get(REFRESH_ANNOTATION, ""),
                trigger=annotations.get(TRIGGER_ANNOTATION, ""),
                finished=finished if terminal else None,
                succeeded="Complete" in terminal,
            )
        )
    return sorted(runs, key=lambda run: (run.created, run.name))


def plan(runs: list[Run], digest: str, request: str, interval: timedelta, now: datetime) -> Plan:
    """Whether a run starts now, and why; when the schedule would start the next one."""
    latest = runs[-1] if runs else None
    if latest is None:
        return Plan("created", None)
    running = any(run.finished is None for run in runs)
    next_run = None
    if latest.finished is not None:
        wait = interval if latest.succeeded else min(interval, FAILED_RETRY)
        next_run = latest.finished + wait
    if latest.digest != digest:
        trigger: str | None = "knowledge-changed"
    elif request and request != latest.request:
        trigger = "requested"
    elif next_run is not None and now >= next_run:
        trigger = "schedule"
    else:
        trigger = None
    return Plan(None if running else trigger, next_run)


def remembered(knowledge: dict[str, Any] | None) -> Run | None:
    """The last finished run as `status.knowledge` recorded it, for when its Job is gone
    (deleted by hand, or by a cluster policy that puts a TTL on every Job): without it a
    Business would look never indexed and be indexed again at once, and again."""
    knowledge = knowledge or {}
    finished = parse_time(knowledge.get("lastRun"))
    if finished is None or not knowledge.get("lastRunDigest"):
        return None
    return Run(
        name=str(knowledge.get("writerJob") or ""),
        created=finished,
        digest=str(knowledge["lastRunDigest"]),
        request=str(knowledge.get("lastRunRequest") or ""),
        trigger="",
        finished=finished,
        succeeded=bool(knowledge.get("lastRunSucceeded", True)),
    )


def expired(runs: list[Run]) -> list[Run]:
    """Finished runs beyond the newest KEPT_RUNS: to delete."""
    finished = [run for run in runs if run.finished is not None]
    return finished[:-KEPT_RUNS] if len(finished) > KEPT_RUNS else []


def run_id(trigger: str, digest: str, request: str, runs: list[Run]) -> str:
    """The suffix of a run's Job name, from what the run answers and the run before it:
    the same decision made twice gives the same name; the next decision a new one."""
    after = runs[-1].name if runs else ""
    text = "\n".join((trigger, digest, request, after))
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def result(
    runs: list[Run], pods: list[dict[str, Any]], plan_now: Plan
) -> tuple[Check, dict[str, Any]]:
    """KnowledgeIndexed and `status.knowledge`: the newest finished run's summary, while
    a newer run may be going on."""
    if not runs:
        return Check(None, "WaitingForIndexWriter", "The index writer has not run yet"), {}
    latest = runs[-1]
    done = [run for run in runs if run.finished is not None]
    report: dict[str, Any] = {"writerJob": latest.name}
    if plan_now.next_run is not None:
        report["nextRun"] = _stamp(plan_now.next_run)
    if not done:
        message = f"The index writer (Job {latest.name}) is indexing the knowledge sources"
        return Check(None, "Indexing", message), report
    last = done[-1]
    report["lastRun"] = _stamp(last.finished)
    # What the last run answered, so the schedule survives its Job being deleted.
    report["lastRunDigest"] = last.digest
    report["lastRunRequest"] = last.request
    report["lastRunSucceeded"] = last.succeeded
    check, stats = _finished(last, _writer_status(pods, last.name))
    if stats is not None:
        report.update(stats.model_dump(by_alias=True, include=REPORTED, exclude_none=True))
        report["failedSources"] = list(stats.failed_sources)
    if latest.finished is None:
        running = f"; Job {latest.name} is indexing again ({latest.trigger})"
        check = Check(check.ok, check.reason, check.message + running)
    return check, report


def _stamp(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _writer_status(pods: list[dict[str, Any]], job: str) -> dict[str, Any] | None:
    """The writer container's terminated state in the newest pod of `job`."""
    mine = [
        pod
        for pod in pods
        if ((pod.get("metadata") or {}).get("labels") or {}).get("job-name") == job
    ]
    mine.sort(key=lambda pod: str((pod.get("metadata") or {}).get("creationTimestamp") or ""))
    for pod in reversed(mine):
        for status in (pod.get("status") or {}).get("containerStatuses") or []:
            terminated = (status.get("state") or {}).get("terminated")
            if status.get("name") == INDEX_WRITER and terminated is not None:
                return dict(terminated)
    return None


def _finished(run: Run, terminated: dict[str, Any] | None) -> tuple[Check, IndexStats | None]:
    if terminated is None:  # its pod is gone (deleted, or never started)
        if run.succeeded:
            return Check(True, "Indexed", f"The index writer (Job {run.name}) finished"), None
        message = f"The index writer (Job {run.name}) failed without a summary"
        return Check(False, "IndexFailed", message), None
    text = terminated.get("message") or ""
    try:
        stats = IndexStats.model_validate_json(text)
    except (ValidationError, ValueError):
        code = terminated.get("exitCode")
        tail = text.strip().splitlines()[-1][:200] if text.strip() else "no summary"
        message = f"The index writer (Job {run.name}) exited with code {code}: {tail}"
        return Check(False, "IndexFailed", message), None
    note = f"; sources not refreshed: {', '.join(stats.failed_sources)}"
    failed = note if stats.failed_sources else ""
    if run.succeeded and stats.state == "ready":
        served = f"{stats.chunks} chunks from {stats.documents} documents"
        return Check(True, "Indexed", f"{served} (version {stats.index_version}){failed}"), stats
    reason = stats.message or "Indexing failed"
    return Check(False, "IndexFailed", f"{reason}{failed}"), stats
