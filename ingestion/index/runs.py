"""The index's own record of its refreshes, kept in the tenant's database beside the chunks.

In a cluster the index writer is a Job that lives for one run, and nothing may call into
it (DESIGN.md's call edges): its numbers would die with it. So each run adds one row here,
in the same folder or bucket as the chunks, holding the *running totals* over every run of
this index: the chunks each run embedded, added, kept and removed, the pages parsed, the
sources that failed and why, the time spent embedding. Serving replicas, which Prometheus
already scrapes, read the newest row and export it as `katha_ingestion_*` (see
ingestion.metrics). Totals only grow, so they are proper Prometheus counters: a replica
that restarts, or a second replica, exports the same numbers, never a reset.

The newest KEEP rows are kept (a run's history for the owner console and for debugging);
the row is written after the chunks are committed, so a reader may see a new version a
moment before the row that describes it, never the other way round.
"""

import json
import time
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import pyarrow as pa  # type: ignore[import-untyped]

from ingestion.index.location import IndexLocation
from ingestion.report import Report

RUNS_TABLE = "runs"
KEEP = 50
RUNS_SCHEMA = pa.schema(
    [
        pa.field("finished_at", pa.float64(), nullable=False),
        pa.field("totals", pa.string(), nullable=False),  # RunTotals as JSON
    ]
)


@dataclass(frozen=True)
class RunTotals:
    """What every refresh of one tenant's index did, added up, and the state after the
    newest one."""

    tenant: str
    runs: dict[str, int] = field(default_factory=dict)  # "succeeded" / "failed" -> runs
    chunks: dict[str, int] = field(default_factory=dict)  # outcome -> chunks
    pages: dict[str, int] = field(default_factory=dict)  # source type -> pages parsed
    # [type, reason, count]: JSON has no tuple keys.
    source_failures: list[tuple[str, str, int]] = field(default_factory=list)
    embedding_seconds: float = 0.0
    index_chunks: int = 0  # chunks in the committed index after the newest good run
    last_success: float | None = None  # when a run last committed (Unix time)
    finished_at: float = 0.0  # when the newest run ended, good or not

    def add(self, report: Report, now: float) -> "RunTotals":
        """These totals with one more run counted (as `report` says it went)."""
        pages = dict(self.pages)
        failures = {(kind, reason): count for kind, reason, count in self.source_failures}
        for source in report.sources:
            if source.pages:
                pages[source.type] = pages.get(source.type, 0) + source.pages
            if source.reason:
                key = (source.type or "unknown", source.reason)
                failures[key] = failures.get(key, 0) + 1
        outcome = "failed" if report.error else "succeeded"
        totals = replace(
            self,
            tenant=report.tenant,
            runs={**self.runs, outcome: self.runs.get(outcome, 0) + 1},
            pages=pages,
            source_failures=[(kind, reason, n) for (kind, reason), n in sorted(failures.items())],
            embedding_seconds=self.embedding_seconds + report.embedding_seconds,
            finished_at=now,
        )
        if report.error:  # nothing was committed: the chunk counts and the index stand
            return totals
        done = {
            "embedded": report.embedded,
            "added": sum(source.added for source in report.sources),
            "kept": sum(source.kept for source in report.sources),
            "removed": sum(source.removed for source in report.sources),
        }
        chunks = {outcome: self.chunks.get(outcome, 0) + n for outcome, n in done.items()}
        return replace(totals, chunks=chunks, index_chunks=report.chunks, last_success=now)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "RunTotals":
        data: dict[str, Any] = json.loads(text)
        failures = [(str(k), str(r), int(n)) for k, r, n in data.pop("source_failures", [])]
        return cls(**data, source_failures=failures)


def record_run(location: IndexLocation, report: Report, now: float | None = None) -> RunTotals:
    """Add `report` to the totals of the tenant database at `location` and keep them there.

    One writer per Business (the index writer Job, or the agent on one machine), so reading
    the newest row and adding one is not a race. Raises what the store raises.
    """
    now = time.time() if now is None else now
    db = location.connect()
    table: Any = db.open_table(RUNS_TABLE) if RUNS_TABLE in db.list_tables().tables else None
    previous = _newest(table) if table is not None else None
    totals = (previous or RunTotals(tenant=report.tenant)).add(report, now)
    row = pa.table({"finished_at": [now], "totals": [totals.to_json()]}, schema=RUNS_SCHEMA)
    if table is None:
        table = db.create_table(RUNS_TABLE, row, schema=RUNS_SCHEMA)
    else:
        table.add(row)
        stamps = sorted(table.to_arrow().column("finished_at").to_pylist(), reverse=True)
        if len(stamps) > KEEP:
            table.delete(f"finished_at < {stamps[KEEP - 1]!r}")
        table.optimize()  # folds the tiny appends and forgets versions a week old
    return totals


def _newest(table: Any) -> RunTotals | None:
    rows = table.to_arrow()
    if rows.num_rows == 0:
        return None
    stamps = rows.column("finished_at").to_pylist()
    newest = max(range(len(stamps)), key=stamps.__getitem__)
    return RunTotals.from_json(rows.column("totals")[newest].as_py())


def _has_runs(location: IndexLocation) -> bool:
    """Whether a run was ever recorded (reading only: a read-only mount is enough)."""
    if location.is_local:
        return (location.path / f"{RUNS_TABLE}.lance").is_dir()
    return RUNS_TABLE in location.connect().list_tables().tables


class RunLog:
    """A serving replica's view of the totals: `newest()` every few seconds costs one
    `checkout_latest` (the rows are read again only when the table has a new version)."""

    def __init__(self, location: IndexLocation) -> None:
        self.location = location
        self._table: Any = None
        self._version: int | None = None
        self._newest: RunTotals | None = None

    def newest(self) -> RunTotals | None:
        """The totals after the newest run; None before any run was recorded.

        Raises what the store raises (unreachable, access denied): the caller decides.
        """
        if self._table is None:
            if not _has_runs(self.location):
                return None
            self._table = self.location.connect().open_table(RUNS_TABLE)
        else:
            self._table.checkout_latest()
        version = int(self._table.version)
        if version != self._version:
            self._newest, self._version = _newest(self._table), version
        return self._newest
