"""`katha ingest`: build or refresh a Business's knowledge index on this machine, a door
onto ingestion.command (as `python -m ingestion` is)."""

from pathlib import Path
from typing import Annotated

import typer


def ingest(
    business: Annotated[Path, typer.Argument(help="A YAML file with Business resources.")],
    index_dir: Annotated[
        str,
        typer.Option(help="Root of the tenant indexes: a folder, or s3://bucket/prefix."),
    ],
    configmap_dir: Annotated[
        Path | None, typer.Option(help="Mounted ConfigMaps, one folder per ConfigMap.")
    ] = None,
    base_dir: Annotated[
        Path | None, typer.Option(help="Where file: sources live (default: the YAML's folder).")
    ] = None,
    summary_file: Annotated[
        Path | None,
        typer.Option(
            help="As the index writer of one Business: write a JSON summary here, and exit 0 "
            "whenever a committed version is there to serve."
        ),
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON reports.")] = False,
) -> None:
    """Load every knowledge source, embed what changed, and commit a new index version.

    With KATHA_INGEST_PUSHGATEWAY_URL set, the run's metrics go to that Pushgateway.
    Exit 0 when every source was indexed, 3 when some failed (their earlier chunks stay),
    1 when the index could not be written, 2 when the file holds no valid Business.
    """
    # Imported here so that `katha validate` and friends do not load LanceDB and PyArrow.
    from ingestion.command import IngestOptions
    from ingestion.command import ingest as run_ingest

    options = IngestOptions(
        business,
        index_dir,
        configmap_dir=configmap_dir,
        base_dir=base_dir,
        summary_file=summary_file,
        json_output=json_output,
        progress=None,  # a progress bar when stderr is a terminal
    )
    raise typer.Exit(code=run_ingest(options, out=typer.echo, fail=_in_red))


def _in_red(line: str) -> None:
    typer.secho(line, fg=typer.colors.RED, err=True)
