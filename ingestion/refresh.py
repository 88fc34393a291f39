"""One refresh of a Business's index: load every source (the Business's own and the documents
its owner uploaded), chunk, embed what is new, commit."""

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from ingestion.chunking import ChunkingPolicy, chunk_document
from ingestion.embedding import Embedder, Vectors, embed_in_batches, embedder_from_settings
from ingestion.errors import FailureReason, SourceError
from ingestion.fetching import FetchLimits, http_client
from ingestion.index.location import IndexLocation, index_location
from ingestion.index.runs import record_run
from ingestion.index.schema import Chunk
from ingestion.index.writer import EmbeddingModel, EmbedTexts, SourceChange, write_index
from ingestion.report import Report, SourceReport, SourceStatus
from ingestion.settings import IngestionSettings
from ingestion.sources import LoadedSource, Places, load_owner_faq, load_source, source_key
from ingestion.text_cleaning import language_of, romanized_copy
from ingestion.uploads import UPLOAD_PREFIX, UploadStore, indexed_uploads, load_upload
from katha.api import Business
from katha.api.knowledge import OWNER_FAQ_SOURCE
from katha.observability import bind_ids, get_logger

log = get_logger("ingestion")


@dataclass
class Refresh:
    """How to refresh: where sources and the index live, and how texts become vectors."""

    index_root: Path | str | IndexLocation  # a folder or an s3:// URI (ingestion.index.location)
    places: Places
    settings: IngestionSettings = field(default_factory=IngestionSettings)
    embedder: Embedder | None = None  # built from settings on first use
    # Replaces in-process batching, e.g. with Ray Data (ingestion.ray_embedding).
    embed: EmbedTexts | None = None
    progress: bool | None = None  # None: a progress bar when stderr is a terminal


def refresh_business(business: Business, refresh: Refresh) -> Report:
    """Refresh one tenant's index; a failing source is reported, never fatal to the others.
    The run is added to the totals kept beside the index (ingestion.index.runs)."""
    name, namespace = business.metadata.name, business.metadata.namespace
    path = index_location(refresh.index_root).child(namespace, name)
    report = Report(tenant=f"{namespace or 'default'}/{name}", index_path=path.uri)
    with bind_ids(tenant=report.tenant):
        _refresh(business, refresh, path, report)
        _record(path, report)
    return report


def _refresh(business: Business, refresh: Refresh, path: IndexLocation, report: Report) -> None:
    refreshed, reports = _load_sources(business, refresh, path)
    stopwatch = _Stopwatch()
    try:
        result = write_index(
            path,
            refreshed,
            reports,
            _model(refresh, stopwatch),
            vector_index_min_rows=refresh.settings.vector_index_min_rows,
        )
    except SourceError as error:  # the embedding model failed: nothing was committed
        report.error = str(error)
        report.embedding_seconds = stopwatch.seconds
        for key in refreshed:
            reports[key].failures.insert(0, f"not embedded: {error}")
            reports[key].reason = error.reason
        report.sources = list(reports.values())
        log.error("index.refresh_failed", reason=str(error))
        return
    _fill(report, reports, refreshed, result.changes)
    report.version, report.chunks = result.version, result.chunks
    report.embedded, report.rebuilt = result.embedded, result.rebuilt
    report.embedding_seconds = stopwatch.seconds
    log.info(
        "index.refreshed",
        version=result.version,
        chunks=result.chunks,
        embedded=result.embedded,
        failed=len(report.failed),
    )


def _record(path: IndexLocation, report: Report) -> None:
    """Counting the run is worth a log line when it fails, never the run itself: the
    chunks were committed (or not) already."""
    try:
        record_run(path, report)
    except Exception as error:  # the store refused a tiny write it took a moment ago
        log.warning("index.run_not_recorded", reason=type(error).__name__)


def _load_sources(
    business: Business, refresh: Refresh, database: IndexLocation
) -> tuple[dict[str, list[Chunk]], dict[str, SourceReport]]:
    """Chunks of every source that could be read, and a report entry for every source: the
    Business's own, then the documents uploaded beside its `database`."""
    settings = refresh.settings
    policy = ChunkingPolicy(settings.chunk_max_chars, settings.chunk_overlap)
    limits = FetchLimits(settings.fetch_timeout_seconds, settings.max_download_bytes)
    refreshed: dict[str, list[Chunk]] = {}
    reports: dict[str, SourceReport] = {}
    with http_client(limits, settings.address_policy()) as client:
        for position, source in enumerate(business.spec.knowledge.sources):
            key = source_key(source, position)
            entry = reports[key] = SourceReport(key, source.type, SourceStatus.FAILED)
            load = partial(load_source, source, position, refresh.places, client, limits)
            _take(entry, load, policy, refreshed)
    if faq := business.spec.knowledge.faq:  # without items it is gone, and so its chunks
        entry = reports[OWNER_FAQ_SOURCE] = SourceReport(
            OWNER_FAQ_SOURCE, "faq", SourceStatus.FAILED
        )
        _take(entry, partial(load_owner_faq, faq), policy, refreshed)
    _load_uploads(database, limits, policy, refreshed, reports)
    return refreshed, reports


def _load_uploads(
    database: IndexLocation,
    limits: FetchLimits,
    policy: ChunkingPolicy,
    refreshed: dict[str, list[Chunk]],
    reports: dict[str, SourceReport],
) -> None:
    """Each document uploaded beside `database` as a source `upload:<file name>`; a deleted
    one is simply not there, so the writer removes its chunks."""
    store = UploadStore(database.documents(), limits.timeout_seconds)
    try:
        uploads = store.uploads()
    except SourceError as error:
        # Unknown is not deleted: every upload indexed before is failed and keeps its chunks.
        log.error("uploads.unlisted", reason=str(error))
        for key in indexed_uploads(database) or [f"{UPLOAD_PREFIX}*"]:
            reports[key] = SourceReport(
                key, "upload", SourceStatus.FAILED, failures=[str(error)], reason=error.reason
            )
        return
    for upload in uploads:
        entry = reports[upload.key] = SourceReport(upload.key, upload.kind, SourceStatus.FAILED)
        _take(entry, partial(load_upload, store, upload, limits.max_bytes), policy, refreshed)


def _take(
    entry: SourceReport,
    load: Callable[[], LoadedSource],
    policy: ChunkingPolicy,
    refreshed: dict[str, list[Chunk]],
) -> None:
    """Load one source and put its chunks in `refreshed`, or say in `entry` why not."""
    key = entry.source
    try:
        loaded = load()
    except SourceError as error:
        entry.failures.append(str(error))
        entry.reason = error.reason
        log.warning("source.failed", source=key, reason=str(error))
        return
    except Exception as error:  # a loader bug must not cost the other sources
        entry.failures.append(f"{type(error).__name__}: {error}")
        entry.reason = FailureReason.INTERNAL
        # No traceback: a pretty one prints local variables, document text among them.
        log.error("source.failed", source=key, reason=type(error).__name__)
        return
    entry.uri, entry.failures = loaded.uri, list(loaded.loaded.skipped)
    entry.documents, entry.pages = len(loaded.loaded.documents), loaded.loaded.pages
    chunks = source_chunks(loaded, policy)
    if not chunks:
        entry.failures.insert(0, "no indexable text")
        entry.reason = FailureReason.NO_TEXT
        log.warning("source.failed", source=key, reason="no indexable text")
        return
    refreshed[key] = chunks


def source_chunks(loaded: LoadedSource, policy: ChunkingPolicy) -> list[Chunk]:
    """A loaded source's chunks, each with its language, romanised copy and content hash."""
    chunks: dict[str, Chunk] = {}
    for document in loaded.loaded.documents:
        doc_id = _digest(loaded.key, document.locator)[:16]
        stated = loaded.languages.get(document.locator)
        for text in chunk_document(document, policy):
            # A stated language is part of the id, so changing it alone re-writes the chunk.
            chunk_id = _digest(loaded.key, document.locator, text, *filter(None, [stated]))[:32]
            language = stated or language_of(text)
            chunks.setdefault(
                chunk_id,
                Chunk(
                    id=chunk_id,
                    doc_id=doc_id,
                    source=loaded.key,
                    source_uri=document.source_uri,
                    locator=document.locator,
                    title=document.title,
                    language=language,
                    text=text,
                    romanized=romanized_copy(text, language),
                    source_version=loaded.version,
                ),
            )
    return list(chunks.values())


def _fill(
    report: Report,
    reports: dict[str, SourceReport],
    refreshed: dict[str, list[Chunk]],
    changes: dict[str, SourceChange],
) -> None:
    for key, change in changes.items():
        entry = reports.get(key) or SourceReport(key, "", SourceStatus.REMOVED)
        reports[key] = entry
        entry.added, entry.kept, entry.removed = change.added, change.kept, change.removed
        if key in refreshed:
            counts = {"added": change.added, "kept": change.kept, "removed": change.removed}
            if change.added or change.removed:
                entry.status = SourceStatus.INDEXED
                log.info("source.indexed", source=key, **counts)
            else:
                entry.status = SourceStatus.UNCHANGED
                log.info("source.unchanged", source=key, **counts)
        elif entry.status is SourceStatus.REMOVED:
            log.info("source.removed", source=key, removed=change.removed)
    report.sources = list(reports.values())


@dataclass
class _Stopwatch:
    seconds: float = 0.0


def _model(refresh: Refresh, stopwatch: _Stopwatch) -> EmbeddingModel:
    if refresh.embedder is None:
        refresh.embedder = embedder_from_settings(refresh.settings)
    embedder = refresh.embedder
    batch_size = refresh.settings.batch_size

    def embed(texts: list[str]) -> Vectors:
        started = time.perf_counter()
        try:
            if refresh.embed is not None:
                return refresh.embed(texts)
            return embed_in_batches(embedder, texts, batch_size, progress=refresh.progress)
        finally:
            stopwatch.seconds += time.perf_counter() - started

    return EmbeddingModel(embedder.model, embedder.dimension, embed)


def _digest(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()
