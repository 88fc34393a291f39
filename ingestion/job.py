"""Refresh every Business in a YAML file: shared by `katha ingest` and `python -m ingestion`."""

from pathlib import Path

from ingestion.index.location import IndexLocation, index_location
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
    index_dir: Path | str | IndexLocation,
    *,
    configmap_dir: Path | None = None,
    base_dir: Path | None = None,
    settings: IngestionSettings | None = None,
    progress: bool | None = None,
) -> list[Report]:
    """Refresh the index of each Business in `business_file` (other kinds are ignored).

    `file:` sources are relative to `base_dir`, by default the YAML file's folder.
    `index_dir` is a folder or an `s3://bucket/prefix` URI (credentials and endpoint from the
    standard AWS variables, see ingestion.index.location).
    """
    settings = settings or IngestionSettings()
    refresh = Refresh(
        index_root=index_location(index_dir),
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

    Exit 0 when this run committed the knowledge (sources that could not be read are
    named in the message and keep their earlier chunks; a web site that is down does not
    fail the run). Exit non-zero when no new version could be written (the embedder is
    down, the store refused the write): the Job retries with back-off and then shows as
    Failed, while the agents keep serving the last good version, which the message
    still describes for the operator.
    """
    if len(reports) != 1:
        found = f"{len(reports)} Businesses"
        stats = writer_result(Report(tenant="", index_path="", error=found), None)
        return summary_json(stats), EXIT_INDEX_NOT_WRITTEN
    report = reports[0]
    # The report names the tenant's database as written: a folder or an s3:// URI.
    committed = committed_index(index_location(report.index_path))
    stats = writer_result(report, committed)
    wrote = committed is not None and report.error is None
    return summary_json(stats), EXIT_OK if wrote else EXIT_INDEX_NOT_WRITTEN
