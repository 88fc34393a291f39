"""The one ingest command: `python -m ingestion` and `katha ingest` are doors onto `ingest`.

Both take the same options and give the same exit codes (see ingestion.job); they differ in
what suits where they run: `python -m ingestion` (a Job or the index writer in a cluster)
prints JSON reports and never draws a progress bar, `katha ingest` prints them for a reader
unless asked for JSON.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ingestion.job import EXIT_USAGE, exit_code, run_file, writer_summary
from ingestion.ray_embedding import RayDataMissingError
from ingestion.settings import IngestionSettings
from katha.api import InvalidResourceError
from katha.observability import configure_logging

# Where a line of output goes: stdout for reports, stderr for what went wrong.
Say = Callable[[str], None]


@dataclass(frozen=True)
class IngestOptions:
    business: Path  # a YAML file with Business resources
    index_dir: Path | str  # root of the tenant indexes: a folder or s3://bucket/prefix
    configmap_dir: Path | None = None  # mounted ConfigMaps: DIR/NAME/KEY
    base_dir: Path | None = None  # where file: sources live (default: the YAML's folder)
    # As the index writer of one Business: write a JSON summary (at most 4 KiB, for a
    # termination message) here, and exit 0 whenever a committed version is there to serve.
    summary_file: Path | None = None
    json_output: bool = True
    progress: bool | None = False  # None: a progress bar when stderr is a terminal


def ingest(options: IngestOptions, *, out: Say, fail: Say) -> int:
    """Refresh the index of each Business in the file, report, and return the exit code.

    Settings come from KATHA_INGEST_* variables; with KATHA_INGEST_PUSHGATEWAY_URL set, each
    tenant's metrics go to that Pushgateway.
    """
    if not options.business.is_file():
        fail(f"✗ {options.business}: no such file")
        return EXIT_USAGE
    settings = IngestionSettings()
    configure_logging(settings.log_level, str(settings.log_format))
    try:
        reports = run_file(
            options.business,
            options.index_dir,
            configmap_dir=options.configmap_dir,
            base_dir=options.base_dir,
            settings=settings,
            progress=options.progress,
        )
    except (InvalidResourceError, RayDataMissingError) as error:
        fail(f"✗ {error}")
        return EXIT_USAGE
    for report in reports:
        out(
            json.dumps(report.as_dict(), ensure_ascii=False)
            if options.json_output
            else report.render()
        )
    if settings.pushgateway_url:
        from ingestion.metrics import push_reports  # loads prometheus_client only when needed

        push_reports(reports, settings.pushgateway_url, settings.fetch_timeout_seconds)
    if options.summary_file is not None:
        summary, code = writer_summary(reports)
        options.summary_file.write_text(summary, encoding="utf-8")
        return code
    if not reports:
        fail(f"✗ {options.business}: holds no Business")
        return EXIT_USAGE
    return exit_code(reports)
