"""What a tenant's committed index holds, and the index writer's short result for Kubernetes.

In a cluster the index is written by one `index-writer` Job at a time; its result goes
to the container's termination message, which the operator reads from the Pod's status.
The kubelet keeps at most 4 KiB of it (and cuts the rest), so the JSON is built to fit.
"""

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from ingestion.index.location import IndexLocation, index_location
from ingestion.index.schema import TABLE
from ingestion.report import Report
from katha.contracts.serving import IndexStats

# The kubelet's limit for one container's termination message.
MAX_SUMMARY_BYTES = 4096
MAX_FAILURE_CHARS = 160


@dataclass(frozen=True)
class CommittedIndex:
    """One committed version of a tenant's table, counted."""

    version: int
    documents: int
    chunks: int
    last_indexed: datetime | None


def committed_index(
    where: Path | str | IndexLocation, version: int | None = None
) -> CommittedIndex | None:
    """The committed `version` (default: the newest) of the tenant database at `where` (a
    folder, an `s3://` URI or a location); None when none is there.

    Only reads: a read-only mount of the index volume, or read-only bucket access, is enough.
    """
    location = index_location(where)
    if not location.has_table():
        return None
    table: Any = location.connect().open_table(TABLE)
    if version is not None:
        table.checkout(version)
    rows = table.search().select(["doc_id", "indexed_at"]).limit(None).to_arrow()
    stamps = [stamp for stamp in rows.column("indexed_at").to_pylist() if stamp is not None]
    return CommittedIndex(
        version=int(table.version),
        documents=len(set(rows.column("doc_id").to_pylist())),
        chunks=rows.num_rows,
        last_indexed=max(stamps) if stamps else None,
    )


def writer_result(report: Report, committed: CommittedIndex | None) -> IndexStats:
    """The writer's outcome as the agent's `/v1/index` would say it: what is served now,
    and which sources failed (their earlier chunks, if any, are still served)."""
    failed = [
        f"{source.source}: {_reason(source.failures, source.reason)}" for source in report.failed
    ]
    message: str | None
    if report.error is not None:
        kept = f"; serving version {committed.version}" if committed else ""
        message = f"index not written: {report.error}{kept}"
        state = "failed"
    else:
        message = f"{len(failed)} of {len(report.sources)} sources failed" if failed else None
        state = "ready" if committed is not None else "failed"
    if committed is None:
        return IndexStats(state=state, message=message, failed_sources=failed)
    return IndexStats(
        state=state,
        documents=committed.documents,
        chunks=committed.chunks,
        index_version=committed.version,
        last_indexed=committed.last_indexed.isoformat() if committed.last_indexed else None,
        message=message,
        failed_sources=failed,
    )


def summary_json(stats: IndexStats) -> str:
    """`stats` as JSON within MAX_SUMMARY_BYTES: long failures are cut, then dropped with a
    count, so the operator always reads whole JSON."""
    failures = [_cut(item, MAX_FAILURE_CHARS) for item in stats.failed_sources]
    message = _cut(stats.message, 512) if stats.message else None
    for keep in range(len(failures), -1, -1):
        hidden = len(failures) - keep
        shown = failures[:keep] + (
            [f"... and {hidden} more (see the writer's log)"] if hidden else []
        )
        text = json.dumps(
            stats.model_copy(update={"failed_sources": shown, "message": message}).model_dump(
                mode="json", by_alias=True
            ),
            ensure_ascii=False,
        )
        if len(text.encode()) <= MAX_SUMMARY_BYTES:
            break
    return text


def _reason(failures: list[str], reason: str) -> str:
    return failures[0] if failures else reason or "failed"


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
