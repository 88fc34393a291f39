"""Refresh every Business in a YAML file: shared by `katha ingest` and `python -m ingestion`."""

from pathlib import Path

from ingestion.refresh import Refresh, refresh_business
from ingestion.report import Report
from ingestion.settings import IngestionSettings
from ingestion.sources import Places
from ingestion.summary import committed_index, summary_json, writer_result
from katha.api import Business, load_resources
from katha.observability import quiet_chatty_loggers

# Exit codes a Kubernetes Job (and a shell) can act on.
EXIT_OK = 0
EXIT_INDEX_NOT_WRITTEN = 1
EXIT_USAGE = 2  # no such file, not a valid Business file, or no Business in it
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
    """httpx logs every request at INFO; the crawl's outcome is in the report instead.
    (configure_logging does this too; this is for callers that log some other way.)"""
    quiet_chatty_loggers()


def exit_code(reports: list[Report]) -> int:
    if any(report.error for report in reports):
        return EXIT_INDEX_NOT_WRITTEN
    if any(report.failed for report in reports):
        return EXIT_SOURCES_FAILED
    return EXIT_OK


def writer_summary(reports: list[Report]) -> tuple[str, int]:
    """The index writer's termination message and exit code, for one Business.

    Exit 0 whenever a committed version is there to serve, failures or not: the pod's
    serving containers start only after the writer succeeds, and an agent answering from
    the last good version beats one that never starts because a web site was down. The
    failures are in the message, where the operator reads them. Without any committed
    version the writer fails (the kubelet retries it with back-off).
    """
    if len(reports) != 1:
        found = f"{len(reports)} Businesses"
        stats = writer_result(Report(tenant="", index_path="", error=found), None)
        return summary_json(stats), EXIT_INDEX_NOT_WRITTEN
    report = reports[0]
    committed = committed_index(Path(report.index_path))
    stats = writer_result(report, committed)
    return summary_json(stats), EXIT_OK if committed is not None else EXIT_INDEX_NOT_WRITTEN
