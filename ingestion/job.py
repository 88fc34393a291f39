"""Refresh every Business in a YAML file: shared by `katha ingest` and `python -m ingestion`."""

import logging
from pathlib import Path

from ingestion.refresh import Refresh, refresh_business
from ingestion.report import Report
from ingestion.settings import IngestionSettings
from ingestion.sources import Places
from katha.api import Business, load_resources

# Exit codes a Kubernetes Job (and a shell) can act on.
EXIT_OK = 0
EXIT_INDEX_NOT_WRITTEN = 1
EXIT_SOURCES_FAILED = 3


def run_file(
    business_file: Path,
    index_dir: Path,
    *,
    configmap_dir: Path | None = None,
    base_dir: Path | None = None,
    settings: IngestionSettings | None = None,
    progress: bool | None = None,
) -> list[Report]:
    """Refresh the index of each Business in `business_file` (other kinds are ignored).

    `file:` sources are relative to `base_dir`, by default the YAML file's folder.
    """
    settings = settings or IngestionSettings()
    refresh = Refresh(
        index_root=index_dir,
        places=Places(base_dir or business_file.resolve().parent, configmap_dir),
        settings=settings,
        progress=progress,
    )
    if settings.ray_address:
        from ingestion.ray_embedding import ray_embedder

        refresh.embed = ray_embedder(settings)
    businesses = [item for item in load_resources(business_file) if isinstance(item, Business)]
    return [refresh_business(business, refresh) for business in businesses]


def quiet_http_logs() -> None:
    """httpx logs every request at INFO; the crawl's outcome is in the report instead."""
    logging.getLogger("httpx").setLevel(logging.WARNING)


def exit_code(reports: list[Report]) -> int:
    if any(report.error for report in reports):
        return EXIT_INDEX_NOT_WRITTEN
    if any(report.failed for report in reports):
        return EXIT_SOURCES_FAILED
    return EXIT_OK
