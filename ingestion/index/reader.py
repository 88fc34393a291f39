"""Search a tenant's index: full text on the text and the romanised text, and by vector."""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingestion.embedding import QueryEmbedder
from ingestion.index.location import IndexLocation, index_location
from ingestion.index.schema import TABLE, embedding_model_of
from ingestion.text_cleaning import clean_line
from katha.lang import fold_romanized, romanize

_COLUMNS = ["id", "doc_id", "source", "source_uri", "locator", "title", "language", "text"]


@dataclass(frozen=True)
class Found:
    """A chunk as a search returns it: what it says and where it came from."""

    id: str
    source: str
    source_uri: str
    locator: str
    title: str
    language: str
    text: str


@dataclass(frozen=True)
class Hit(Found):
    score: float  # BM25 for full text (higher is better), cosine distance for vectors (lower)


class IndexReader:
    """Search one tenant's committed `chunks` table; the agent builds hybrid search on it.

    A reader keeps searching the version it opened while a refresh commits the next one,
    until `refresh()` moves it on. `where` is the tenant's database: a folder, an `s3://`
    URI or a location; `version` pins one committed version (default: the newest).
    """

    def __init__(self, where: Path | str | IndexLocation, version: int | None = None) -> None:
        self._table: Any = index_location(where).connect().open_table(TABLE)
        if version is not None:
            self._table.checkout(version)
        # The model the version was embedded with, read once: reading the schema on every
        # search cost a tenth of a replica's time per question.
        self._recorded: tuple[str, int] | None = embedding_model_of(self._table.schema)

    @property
    def version(self) -> int:
        return int(self._table.version)

    def refresh(self) -> None:
        """Move on to the latest committed version."""
        self._table.checkout_latest()
        self._recorded = embedding_model_of(self._table.schema)

    def count(self) -> int:
        return int(self._table.count_rows())

    def search_text(self, query: str, limit: int = 5) -> list[Hit]:
        """BM25 over the normalised text (ICU words, so Sinhala and Tamil words match whole)."""
        return self._full_text(clean_line(query), "text", limit)

    def search_romanized(self, query: str, limit: int = 5) -> list[Hit]:
        """BM25 over the romanised column: a Singlish query, or native script romanised first."""
        return self._full_text(fold_romanized(romanize(query)), "romanized", limit)

    def search_vector(self, query: str, embedder: QueryEmbedder, limit: int = 5) -> list[Hit]:
        """Nearest chunks by cosine distance, with the model the index was built with."""
        recorded = self._recorded
        if recorded is not None and recorded != (embedder.model, embedder.dimension):
            raise ValueError(f"the index was embedded with {recorded[0]}, not {embedder.model}")
        vector = embedder.embed_query(query)
        search = self._table.search(vector, vector_column_name="vector").distance_type("cosine")
        rows = search.select([*_COLUMNS, "_distance"]).limit(limit).to_list()
        return [_hit(row, float(row["_distance"])) for row in rows]

    def _full_text(self, query: str, column: str, limit: int) -> list[Hit]:
        if not query.strip():
            return []
        search = self._table.search(query, query_type="fts", fts_columns=column)
        rows = search.select([*_COLUMNS, "_score"]).limit(limit).to_list()
        return [_hit(row, float(row["_score"])) for row in rows]


def _hit(row: dict[str, Any], score: float) -> Hit:
    return Hit(
        id=row["id"],
        source=row["source"],
        source_uri=row["source_uri"],
        locator=row["locator"],
        title=row["title"],
        language=row["language"],
        text=row["text"],
        score=score,
    )
