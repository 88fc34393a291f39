"""A Business's index state, read from its index writer's Pod status: no call to any agent.

The writer (the `index-writer` init container of the pod that owns the index volume)
leaves a JSON summary as its termination message; the API server keeps it in the Pod's
`status.initContainerStatuses`, which the operator may read (RBAC: pods get/list).
"""

from typing import Any

from pydantic import ValidationError

from business_operator.names import INDEX_WRITER
from business_operator.status import Check
from katha.contracts.serving import IndexStats

SHARED_NODE = "replicas share the head's node while the index is on a ReadWriteOnce volume"
REPORTED = {"documents", "chunks", "index_version", "last_indexed"}


def knowledge_from_pods(
    pods: list[dict[str, Any]], *, shared_node: bool = False
) -> tuple[Check, dict[str, Any]]:
    """KnowledgeIndexed and `status.knowledge` from the newest pod that ran the writer."""
    check, stats = _observe(pods)
    if shared_node:
        check = Check(check.ok, check.reason, f"{check.message}; {SHARED_NODE}")
    if stats is None:
        return check, {}
    report = stats.model_dump(by_alias=True, include=REPORTED, exclude_none=True)
    return check, report


def _observe(pods: list[dict[str, Any]]) -> tuple[Check, IndexStats | None]:
    writers = [(pod, status) for pod in pods if (status := _writer_status(pod)) is not None]
    if not writers:
        return Check(None, "WaitingForIndexWriter", "No pod has started the index writer yet"), None
    _, status = max(writers, key=lambda found: _created(found[0]))
    state = status.get("state") or {}
    if "terminated" in state:
        return _finished(state["terminated"])
    # Running, or waiting to run again: an earlier attempt's result says why it is retried.
    last = (status.get("lastState") or {}).get("terminated")
    if last is not None and last.get("exitCode", 0) != 0:
        check, stats = _finished(last)
        return Check(False, "IndexFailed", f"{check.message} (retrying)"), stats
    return Check(None, "Indexing", "The index writer is indexing the knowledge sources"), None


def _finished(terminated: dict[str, Any]) -> tuple[Check, IndexStats | None]:
    text = terminated.get("message") or ""
    try:
        stats = IndexStats.model_validate_json(text)
    except (ValidationError, ValueError):
        code = terminated.get("exitCode")
        reason = terminated.get("reason") or "no summary"
        message = f"The index writer exited with code {code} ({reason}) without a summary"
        return Check(False, "IndexFailed", message), None
    failed = f"; sources not refreshed: {', '.join(stats.failed_sources)}"
    note = failed if stats.failed_sources else ""
    if terminated.get("exitCode") == 0 and stats.state == "ready":
        served = f"{stats.chunks} chunks from {stats.documents} documents"
        return Check(True, "Indexed", f"{served} (version {stats.index_version}){note}"), stats
    message = stats.message or "Indexing failed"
    return Check(False, "IndexFailed", f"{message}{note}"), stats


def _writer_status(pod: dict[str, Any]) -> dict[str, Any] | None:
    for status in (pod.get("status") or {}).get("initContainerStatuses") or []:
        if status.get("name") == INDEX_WRITER:
            return dict(status)
    return None


def _created(pod: dict[str, Any]) -> str:
    # RFC 3339 in UTC ("...Z") sorts as text.
    return str((pod.get("metadata") or {}).get("creationTimestamp") or "")
