"""`python -m ingestion BUSINESS.yaml --index-dir DIR`: the Kubernetes Job and Ray task entry,
a door onto ingestion.command (as `katha ingest` is).

DIR is a folder or `s3://bucket/prefix`; for object storage LanceDB takes the credentials
and the endpoint from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION (or
AWS_DEFAULT_REGION) and AWS_ENDPOINT_URL (MinIO, Ceph: `http://` is allowed then)."""

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from ingestion.command import IngestOptions, ingest


def main(argv: list[str] | None = None) -> int:
    """One JSON report per Business on stdout, JSON logs on stderr; the exit code says how it
    went (see ingestion.job). Settings come from KATHA_INGEST_* variables; with
    KATHA_INGEST_PUSHGATEWAY_URL set, each tenant's metrics go to that Pushgateway."""
    parser = argparse.ArgumentParser(prog="python -m ingestion", description=__doc__)
    parser.add_argument("business", type=Path, help="a YAML file with Business resources")
    # Kept a string: Path() would fold s3://bucket into s3:/bucket.
    parser.add_argument(
        "--index-dir", required=True, help="root of tenant indexes: a folder or s3://bucket/prefix"
    )
    parser.add_argument("--configmap-dir", type=Path, help="mounted ConfigMaps: DIR/NAME/KEY")
    parser.add_argument("--base-dir", type=Path, help="where file: sources are (default: YAML's)")
    parser.add_argument(
        "--summary-file",
        type=Path,
        help="as the index writer of one Business: write a JSON summary (at most 4 KiB, for "
        "a termination message) here, and exit 0 whenever a committed version is there to serve",
    )
    args = parser.parse_args(argv)
    options = IngestOptions(
        args.business,
        args.index_dir,
        configmap_dir=args.configmap_dir,
        base_dir=args.base_dir,
        summary_file=args.summary_file,
    )
    return ingest(options, out=_line_to(sys.stdout), fail=_line_to(sys.stderr))


def _line_to(stream: TextIO) -> Callable[[str], None]:
    return lambda line: print(line, file=stream)


if __name__ == "__main__":
    sys.exit(main())
