"""Incremental refresh of a tenant's chunks table, committed atomically as one new version."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.compute as pc  # type: ignore[import-untyped]

from ingestion.embedding import Vectors
from ingestion.index.location import IndexLocation, index_location
from ingestion.index.maintenance import VECTOR_INDEX_MIN_ROWS, maintain_indexes
from ingestion.index.schema import (
    TABLE,
    Chunk,
    chunk_rows,
    chunks_schema,
    embedding_model_of,
    rows_to_chunks,
)

EmbedTexts = Callable[[list[str]], Vectors]


@dataclass
class SourceChange:
    added: int = 0
    kept: int = 0
    removed: int = 0


@dataclass
class WriteResult:
    version: int
    chunks: int
    embedded: int
    rebuilt: bool
    changes: dict[str, SourceChange] = field(default_factory=dict)


@dataclass(frozen=True)
class EmbeddingModel:
    name: str
    dimension: int
    embed: EmbedTexts


def write_index(
    where: Path | str | IndexLocation,
    refreshed: dict[str, list[Chunk]],
    current: Iterable[str],
    model: EmbeddingModel,
    vector_index_min_rows: int = VECTOR_INDEX_MIN_ROWS,
) -> WriteResult:
    """Bring the table at `where` (a folder, an `s3://` URI or a location) up to date with
    the `refreshed` sources' chunks.

    Unchanged chunks keep their vectors, a changed source's chunks are replaced, and a
    failed source's chunks stay as they were. `current` names every source the Business
    still has, refreshed or failed: sources in the table but not in `current` have vanished
    and lose their chunks. Everything lands in one LanceDB commit (a new table version):
    readers see the old version or the new one, never a mix, and a crash before the commit
    leaves the old version as it was.
    """
    current = set(current)
    db = index_location(where).connect()
    schema = chunks_schema(model.name, model.dimension)
    table: Any = db.open_table(TABLE) if TABLE in db.list_tables().tables else None
    by_source = _rows_by_source(schema.empty_table() if table is None else table.to_arrow())
    changes = _untouched_changes(by_source, current, set(refreshed))
    if table is None or embedding_model_of(table.schema) != (model.name, model.dimension):
        rebuilt = table is not None
        table, embedded = _rebuild(db, table, refreshed, by_source, current, model, changes)
    else:
        embedded = _update(table, refreshed, by_source, current, model, changes)
        rebuilt = False
    maintain_indexes(table, vector_index_min_rows)
    return WriteResult(table.version, table.count_rows(), embedded, rebuilt, changes)


def _rows_by_source(existing: pa.Table) -> dict[str, pa.Table]:
    return {
        key: existing.filter(pc.equal(existing["source"], key))
        for key in set(existing["source"].to_pylist())
    }


def _untouched_changes(
    by_source: dict[str, pa.Table], current: set[str], refreshed: set[str]
) -> dict[str, SourceChange]:
    """Failed sources keep their rows; vanished sources lose theirs."""
    changes = {
        key: SourceChange(kept=by_source[key].num_rows if key in by_source else 0)
        for key in current - refreshed
    }
    changes |= {
        key: SourceChange(removed=by_source[key].num_rows) for key in set(by_source) - current
    }
    return changes


def _rebuild(
    db: Any,
    table: Any,
    refreshed: dict[str, list[Chunk]],
    by_source: dict[str, pa.Table],
    current: set[str],
    model: EmbeddingModel,
    changes: dict[str, SourceChange],
) -> tuple[Any, int]:
    """A new table or a new model: every vector is made again, from the stored text for
    failed sources, in one commit like any other write."""
    schema = chunks_schema(model.name, model.dimension)
    kept = [
        chunk
        for key in current - set(refreshed)
        if key in by_source
        for chunk in rows_to_chunks(by_source[key])
    ]
    chunks = [chunk for key in refreshed for chunk in refreshed[key]] + kept
    changes |= {key: SourceChange(added=len(refreshed[key])) for key in refreshed}
    vectors, embedded = _vectors(chunks, {}, model)
    data = chunk_rows(chunks, vectors, [datetime.now(UTC)] * len(chunks), schema)
    if table is None:
        return db.create_table(TABLE, data=data, schema=schema), embedded
    table.add(data, mode="overwrite")
    return table, embedded


def _update(
    table: Any,
    refreshed: dict[str, list[Chunk]],
    by_source: dict[str, pa.Table],
    current: set[str],
    model: EmbeddingModel,
    changes: dict[str, SourceChange],
) -> int:
    """Replace the rows of the sources that changed or vanished, in one merge commit."""
    schema = chunks_schema(model.name, model.dimension)
    data, embedded, changed = _changed_rows(refreshed, by_source, schema, model, changes)
    changed |= set(by_source) - current
    if changed:
        (
            table.merge_insert("id")
            .when_not_matched_insert_all()
            .when_not_matched_by_source_delete(_sources_filter(changed))
            .execute(data)
        )
    return embedded


def _changed_rows(
    refreshed: dict[str, list[Chunk]],
    by_source: dict[str, pa.Table],
    schema: pa.Schema,
    model: EmbeddingModel,
    changes: dict[str, SourceChange],
) -> tuple[pa.Table, int, set[str]]:
    """Rows of the refreshed sources that changed (kept rows included, so they survive)."""
    chunks: list[Chunk] = []
    stamps: list[datetime] = []
    known: dict[str, np.ndarray[Any, Any]] = {}
    changed: set[str] = set()
    now = datetime.now(UTC)
    for key, new in refreshed.items():
        old = by_source.get(key)
        old_ids = set(old["id"].to_pylist()) if old is not None else set()
        new_ids = {chunk.id for chunk in new}
        kept = old_ids & new_ids
        changes[key] = SourceChange(
            added=len(new_ids - kept), kept=len(kept), removed=len(old_ids - new_ids)
        )
        if new_ids == old_ids:
            continue
        changed.add(key)
        stamp_of: dict[str, datetime] = {}
        if old is not None:
            # A chunk that moved (same text, new page number) keeps its vector.
            vectors = old["vector"].combine_chunks().flatten().to_numpy().reshape(old.num_rows, -1)
            for index, text in enumerate(old["text"].to_pylist()):
                known[text] = vectors[index]
            stamp_of = dict(zip(old["id"].to_pylist(), old["indexed_at"].to_pylist(), strict=True))
        chunks.extend(new)
        stamps.extend(stamp_of.get(chunk.id, now) for chunk in new)
    vectors, embedded = _vectors(chunks, known, model)
    return chunk_rows(chunks, vectors, stamps, schema), embedded, changed


def _vectors(
    chunks: list[Chunk], known: dict[str, np.ndarray[Any, Any]], model: EmbeddingModel
) -> tuple[Vectors, int]:
    """Vectors for `chunks`, embedding only texts not in `known` (each distinct text once)."""
    missing = sorted({chunk.text for chunk in chunks if chunk.text not in known})
    if missing:
        fresh = model.embed(missing)
        known = {**known, **dict(zip(missing, fresh, strict=True))}
    if not chunks:
        return np.empty((0, model.dimension), dtype=np.float32), 0
    return np.stack([known[chunk.text] for chunk in chunks]).astype(np.float32), len(missing)


def _sources_filter(keys: set[str]) -> str:
    quoted = ", ".join("'" + key.replace("'", "''") + "'" for key in sorted(keys))
    return f"source IN ({quoted})"
