"""The tenant's knowledge index as the agent sees it: the committed version answers, always.

A refresh runs beside the traffic (a Ray task in Serve, a thread elsewhere) and writes
the next version; when it commits, a new reader is swapped in. A request holds the reader
it started with, so no request ever sees a half-written index or a closed table.

In a cluster the agent only reads: one index writer per Business commits the versions
(an init container), and serving replicas open the newest one from a read-only mount.
"""

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from ingestion.embedding import Embedder
from ingestion.index.reader import IndexReader
from ingestion.index.schema import TABLE
from ingestion.report import Report
from ingestion.summary import committed_index
from katha.contracts.serving import IndexStats
from katha.observability import get_logger

log = get_logger("agent")
# Beside the LanceDB tables: the knowledge revision the committed index was built from.
REVISION_FILE = ".katha-revision"

Refresher = Callable[[], Report]


class IndexReadOnlyError(RuntimeError):
    """This replica serves a read-only index: another workload writes it."""


READ_ONLY_MESSAGE = (
    "this agent serves a read-only index: its index writer refreshes it when the Business's "
    "knowledge changes (or when the agent's pod is recreated)"
)


class IndexState(StrEnum):
    EMPTY = "empty"
    INDEXING = "indexing"
    READY = "ready"
    FAILED = "failed"


@dataclass(frozen=True)
class Snapshot:
    """One committed version: the reader over it and what it holds."""

    reader: IndexReader
    documents: int
    chunks: int
    version: int
    last_indexed: datetime | None


class KnowledgeBase:
    def __init__(
        self,
        path: Path,
        embedder: Embedder,
        refresher: Refresher,
        revision: str = "",
        *,
        read_only: bool = False,
    ) -> None:
        self.path = path
        self.embedder = embedder
        self._refresher = refresher
        self._revision = revision
        self.read_only = read_only
        self._lock = threading.Lock()
        self._worker: threading.Thread | None = None
        self._failure: str | None = None
        self._failed_sources: str | None = None  # the last refresh's sources that failed
        self._snapshot = _open(path)

    @property
    def snapshot(self) -> Snapshot | None:
        """The committed version requests search now (None before the first index)."""
        return self._snapshot

    @property
    def state(self) -> IndexState:
        if self._worker is not None and self._worker.is_alive():
            return IndexState.INDEXING
        if self._failure is not None:
            return IndexState.FAILED
        return IndexState.READY if self._snapshot is not None else IndexState.EMPTY

    def stale(self) -> bool:
        """No index yet, or one built from another knowledge revision than the Business's.

        A read-only index is never stale to its reader: only its writer may change it.
        """
        if self.read_only:
            return False
        if self._snapshot is None:
            return True
        marker = self.path / REVISION_FILE
        recorded = marker.read_text().strip() if marker.is_file() else ""
        return recorded != self._revision

    def refresh(self) -> bool:
        """Start a refresh in the background; False when one is already running.

        Raises IndexReadOnlyError on a read-only replica.
        """
        if self.read_only:
            raise IndexReadOnlyError(READ_ONLY_MESSAGE)
        with self._lock:
            if self._worker is not None and self._worker.is_alive():
                return False
            self._worker = threading.Thread(target=self._run, name="index-refresh", daemon=True)
            self._worker.start()
            return True

    def wait(self, timeout: float | None = None) -> IndexState:
        worker = self._worker
        if worker is not None:
            worker.join(timeout)
        return self.state

    def stats(self) -> IndexStats:
        snapshot, state = self._snapshot, self.state
        if snapshot is None:
            return IndexStats(state=state.value, message=self._failure)
        return IndexStats(
            state=state.value,
            documents=snapshot.documents,
            chunks=snapshot.chunks,
            index_version=snapshot.version,
            last_indexed=snapshot.last_indexed.isoformat() if snapshot.last_indexed else None,
            message=self._failure or self._failed_sources,
        )

    def _run(self) -> None:
        log.info("index.refresh_started")
        try:
            report = self._refresher()
        except Exception as error:  # an ingestion bug: keep answering from the old version
            self._failure = f"refresh failed: {type(error).__name__}"
            log.error("index.refresh_failed", reason=type(error).__name__)
            return
        if report.error is not None:
            self._failure = f"refresh failed: {report.error}"
            log.error("index.refresh_failed", reason=report.error)
            return
        (self.path / REVISION_FILE).write_text(self._revision)
        self._snapshot = _open(self.path)  # one assignment: requests see old or new
        self._failure = None
        failed = [f"{source.source} ({source.reason or 'failed'})" for source in report.failed]
        self._failed_sources = f"sources not refreshed: {', '.join(failed)}" if failed else None
        log.info("index.swapped", version=report.version, chunks=report.chunks)


def _open(path: Path) -> Snapshot | None:
    if not (path / f"{TABLE}.lance").is_dir():
        return None
    reader = IndexReader(path)
    committed = committed_index(path, reader.version)
    if committed is None:
        return None
    return Snapshot(
        reader=reader,
        documents=committed.documents,
        chunks=committed.chunks,
        version=committed.version,
        last_indexed=committed.last_indexed,
    )
