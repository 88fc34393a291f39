"""The tenant's knowledge index as the agent sees it: the committed version answers, always.

A refresh runs beside the traffic (a Ray task in Serve, a thread elsewhere) and writes
the next version; when it commits, a new reader is swapped in. A request holds the reader
it started with, so no request ever sees a half-written index or a closed table.

In a cluster the agent only reads: one index writer per Business commits the versions,
and serving replicas follow them from a read-only mount or a bucket: a light poll sees a
newer committed version and swaps a reader over it in the same way (`follow`).
"""

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from agent_runtime.retrieval import Retrieval
from ingestion.embedding import Embedder, cached
from ingestion.index.location import IndexLocation, IndexNotLocalError, index_location
from ingestion.index.probe import VersionProbe
from ingestion.index.reader import IndexReader
from ingestion.index.runs import RunLog, RunTotals
from ingestion.report import Report
from ingestion.summary import committed_index
from katha.cache import Recent
from katha.contracts.serving import IndexStats
from katha.observability import get_logger

log = get_logger("agent")
# Beside the LanceDB tables: the knowledge revision the committed index was built from.
REVISION_FILE = ".katha-revision"
# Questions whose vector and search results a replica remembers: each search keeps its
# passages' text, so a full cache is tens of MiB at most, until the next index version.
CACHE_SIZE = 1024

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
    # What searches of this version found, by (question, language): a search depends on
    # nothing else, so a repeated question skips it; a new version starts empty.
    searches: Recent[tuple[str, str], Retrieval] = field(
        default_factory=lambda: Recent(0), compare=False
    )


WRITABLE_NEEDS_FOLDER = (
    "an index in object storage ({uri}) is written only by its index writer (python -m "
    "ingestion); serve it read-only (KATHA_AGENT_INDEX_READ_ONLY=true) or use a local folder"
)


class KnowledgeBase:
    def __init__(
        self,
        where: Path | str | IndexLocation,
        embedder: Embedder,
        refresher: Refresher,
        revision: str = "",
        *,
        read_only: bool = False,
        poll_seconds: float = 5.0,
        cache_size: int = CACHE_SIZE,
    ) -> None:
        self.location = index_location(where)
        if not read_only and not self.location.is_local:
            # Refreshing in the agent needs the revision marker file beside the tables.
            raise IndexNotLocalError(WRITABLE_NEEDS_FOLDER.format(uri=self.location.uri))
        # One embedder per replica, its question vectors remembered across index versions
        # (a vector depends on the model and the text, never on the index).
        self.embedder = cached(embedder, cache_size)
        self._cache_size = cache_size
        self._refresher = refresher
        self._revision = revision
        self.read_only = read_only
        self._poll_seconds = poll_seconds
        self._lock = threading.Lock()
        self._worker: threading.Thread | None = None
        self._failure: str | None = None
        self._failed_sources: str | None = None  # the last refresh's sources that failed
        self._probe = VersionProbe(self.location)
        self._runs = RunLog(self.location)
        self._totals: RunTotals | None = None  # what the index's refreshes did, added up
        self._follow_failure: str | None = None  # set while the index store cannot be read
        self._stopping = threading.Event()
        self._follower: threading.Thread | None = None
        self._snapshot: Snapshot | None = None
        if read_only:
            self.poll()  # a store that cannot be read yet: start empty and keep polling
        else:
            self._snapshot = _open(self.location, self._probe.latest(), self._cache_size)
            self._read_totals()

    @property
    def path(self) -> Path:
        """The local folder of a writable index (IndexNotLocalError for object storage)."""
        return self.location.path

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
            return IndexStats(state=state.value, message=self._failure or self._follow_failure)
        return IndexStats(
            state=state.value,
            documents=snapshot.documents,
            chunks=snapshot.chunks,
            index_version=snapshot.version,
            last_indexed=snapshot.last_indexed.isoformat() if snapshot.last_indexed else None,
            message=self._failure or self._follow_failure or self._failed_sources,
        )

    def run_totals(self) -> RunTotals | None:
        """The index's refresh totals as last read (exported as katha_ingestion_*)."""
        return self._totals

    def follow(self) -> None:
        """On a read-only replica, poll for newly committed versions every `poll_seconds`
        until `close()`. A writable index needs none: its own refresh swaps the reader."""
        if not self.read_only or self._poll_seconds <= 0 or self._follower is not None:
            return
        self._follower = threading.Thread(target=self._follow, name="index-follow", daemon=True)
        self._follower.start()

    def close(self) -> None:
        """Stop following (the agent is shutting down); searches in flight finish as usual."""
        self._stopping.set()
        follower, self._follower = self._follower, None
        if follower is not None:
            follower.join(timeout=30)

    def poll(self) -> bool:
        """Move on to the newest committed version if there is a newer one; True if it did.

        Never raises: a store that cannot be read keeps the current version serving, and
        only the first failure of a streak is logged (a poll every few seconds would
        otherwise flood the log while a bucket is unreachable).
        """
        try:
            latest = self._probe.latest()
            current = self._snapshot.version if self._snapshot is not None else None
            fresh = (
                _open(self.location, latest, self._cache_size)
                if latest not in (None, current)
                else None
            )
            self._totals = self._runs.newest()
        except Exception as error:
            if self._follow_failure is None:
                log.warning("index.follow_failed", reason=type(error).__name__)
            self._follow_failure = f"cannot read the index store: {type(error).__name__}"
            return False
        if self._follow_failure is not None:
            log.info("index.follow_recovered")
            self._follow_failure = None
        if fresh is None:
            return False
        self._snapshot = fresh  # one assignment: requests in flight keep the reader they had
        log.info("index.followed", version=fresh.version, chunks=fresh.chunks)
        return True

    def _read_totals(self) -> None:
        """On a writable index, after opening and after each refresh of its own (a failed
        one is counted too); a totals table that cannot be read costs only the metrics."""
        try:
            self._totals = self._runs.newest()
        except Exception as error:
            log.warning("index.totals_unreadable", reason=type(error).__name__)

    def _follow(self) -> None:
        while not self._stopping.wait(self._poll_seconds):
            self.poll()

    def _run(self) -> None:
        log.info("index.refresh_started")
        try:
            report = self._refresher()
        except Exception as error:  # an ingestion bug: keep answering from the old version
            self._failure = f"refresh failed: {type(error).__name__}"
            log.error("index.refresh_failed", reason=type(error).__name__)
            return
        self._read_totals()  # the run counted itself, good or not
        if report.error is not None:
            self._failure = f"refresh failed: {report.error}"
            log.error("index.refresh_failed", reason=report.error)
            return
        (self.path / REVISION_FILE).write_text(self._revision)
        # One assignment: requests see the old reader or the new one.
        self._snapshot = _open(self.location, self._probe.latest(), self._cache_size)
        self._failure = None
        failed = [f"{source.source} ({source.reason or 'failed'})" for source in report.failed]
        self._failed_sources = f"sources not refreshed: {', '.join(failed)}" if failed else None
        log.info("index.swapped", version=report.version, chunks=report.chunks)


def _open(location: IndexLocation, version: int | None, cache_size: int) -> Snapshot | None:
    """A reader pinned to `version`, counted at exactly that version (None: no index yet)."""
    if version is None:
        return None
    reader = IndexReader(location, version)
    committed = committed_index(location, version)
    if committed is None:
        return None
    return Snapshot(
        reader=reader,
        documents=committed.documents,
        chunks=committed.chunks,
        version=committed.version,
        last_indexed=committed.last_indexed,
        searches=Recent(cache_size),
    )
