"""The `chunks` table, defined once, and where each tenant's database lives."""

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa  # type: ignore[import-untyped]

TABLE = "chunks"
# The vector field's metadata names the model, so a model change means a full re-embed
# instead of a table mixing two vector spaces.
MODEL_KEY = b"katha.embedding.model"
DIMENSION_KEY = b"katha.embedding.dimension"


@dataclass(frozen=True)
class Chunk:
    """One row of the index, before or after its vector is known."""

    id: str  # content hash of source, locator and text
    doc_id: str
    source: str  # the source's key (its name, else its location)
    source_uri: str
    locator: str
    title: str
    language: str
    text: str
    romanized: str
    source_version: str


def chunks_schema(model: str, dimension: int) -> pa.Schema:
    return pa.schema(
        [
            pa.field("id", pa.string(), nullable=False),
            pa.field("doc_id", pa.string(), nullable=False),
            pa.field("source", pa.string(), nullable=False),
            pa.field("source_uri", pa.string(), nullable=False),
            pa.field("locator", pa.string(), nullable=False),
            pa.field("title", pa.string(), nullable=False),
            pa.field("language", pa.string(), nullable=False),
            pa.field("text", pa.string(), nullable=False),
            pa.field("romanized", pa.string(), nullable=False),
            pa.field(
                "vector",
                pa.list_(pa.float32(), dimension),
                nullable=False,
                metadata={MODEL_KEY: model.encode(), DIMENSION_KEY: str(dimension).encode()},
            ),
            pa.field("source_version", pa.string(), nullable=False),
            pa.field("indexed_at", pa.timestamp("us", tz="UTC"), nullable=False),
        ]
    )


def embedding_model_of(schema: pa.Schema) -> tuple[str, int] | None:
    """The model and dimension a table's vectors were made with (None if unrecorded)."""
    if "vector" not in schema.names:
        return None
    metadata = schema.field("vector").metadata or {}
    if MODEL_KEY not in metadata or DIMENSION_KEY not in metadata:
        return None
    return metadata[MODEL_KEY].decode(), int(metadata[DIMENSION_KEY])


def tenant_path(root: Path, namespace: str | None, name: str) -> Path:
    """One LanceDB database per tenant: ROOT/NAMESPACE/NAME."""
    return root / (namespace or "default") / name


def chunk_rows(
    chunks: list[Chunk],
    vectors: npt.NDArray[np.float32],
    indexed_at: list[datetime],
    schema: pa.Schema,
) -> pa.Table:
    """Chunks with their vectors (row i of `vectors` belongs to chunk i) as an Arrow table."""
    dimension = schema.field("vector").type.list_size
    columns: dict[str, pa.Array] = {
        name: pa.array([getattr(chunk, name) for chunk in chunks], pa.string())
        for name in Chunk.__dataclass_fields__
    }
    flat = pa.array(np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1))
    columns["vector"] = pa.FixedSizeListArray.from_arrays(flat, dimension)
    columns["indexed_at"] = pa.array(indexed_at, pa.timestamp("us", tz="UTC"))
    return pa.Table.from_pydict({name: columns[name] for name in schema.names}, schema=schema)


def rows_to_chunks(table: pa.Table) -> list[Chunk]:
    """The Chunk part of rows read back from the index."""
    columns = {name: table.column(name).to_pylist() for name in Chunk.__dataclass_fields__}
    return [
        Chunk(**{name: values[index] for name, values in columns.items()})
        for index in range(table.num_rows)
    ]
