"""`python -m ingestion BUSINESS.yaml --index-dir DIR`: the Kubernetes Job and Ray task entry."""

import argparse
import json
import sys
from pathlib import Path

from ingestion.job import exit_code, run_file, writer_summary
from ingestion.metrics import push_reports
from ingestion.settings import IngestionSettings
from katha.observability import configure_logging


def main(argv: list[str] | None = None) -> int:
    """One JSON report per Business on stdout, JSON logs on stderr; the exit code says how it
    went (see ingestion.job). Settings come from KATHA_INGEST_* variables; with
    KATHA_INGEST_PUSHGATEWAY_URL set, each tenant's metrics go to that Pushgateway."""
    parser = argparse.ArgumentParser(prog="python -m ingestion", description=__doc__)
    parser.add_argument("business", type=Path, help="a YAML file with Business resources")
    parser.add_argument("--index-dir", type=Path, required=True, help="root of tenant indexes")
    parser.add_argument("--configmap-dir", type=Path, help="mounted ConfigMaps: DIR/NAME/KEY")
    parser.add_argument("--base-dir", type=Path, help="where file: sources are (default: YAML's)")
    parser.add_argument(
        "--summary-file",
        type=Path,
        help="as the index writer of one Business: write a JSON summary (at most 4 KiB, for "
        "a termination message) here, and exit 0 whenever a committed version is there to serve",
    )
    args = parser.parse_args(argv)
    settings = IngestionSettings()
    configure_logging(settings.log_level, str(settings.log_format))
    reports = run_file(
        args.business,
        args.index_dir,
        configmap_dir=args.configmap_dir,
        base_dir=args.base_dir,
        settings=settings,
        progress=False,
    )
    for report in reports:
        sys.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False) + "\n")
    if settings.pushgateway_url:
        push_reports(reports, settings.pushgateway_url, settings.fetch_timeout_seconds)
    if args.summary_file is not None:
        summary, code = writer_summary(reports)
        args.summary_file.write_text(summary, encoding="utf-8")
        return code
    return exit_code(reports)


if __name__ == "__main__":
    sys.exit(main())
