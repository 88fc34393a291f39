"""`katha ingest`: build or refresh a Business's knowledge index on this machine."""

import json
from pathlib import Path
from typing import Annotated

import typer


def ingest(
    business: Annotated[Path, typer.Argument(help="A YAML file with Business resources.")],
    index_dir: Annotated[Path, typer.Option(help="Root folder of the tenant indexes.")],
    configmap_dir: Annotated[
        Path | None, typer.Option(help="Mounted ConfigMaps, one folder per ConfigMap.")
    ] = None,
    base_dir: Annotated[
        Path | None, typer.Option(help="Where file: sources live (default: the YAML's folder).")
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON reports.")] = False,
) -> None:
    """Load every knowledge source, embed what changed, and commit a new index version.

    With KATHA_INGEST_PUSHGATEWAY_URL set, the run's metrics go to that Pushgateway.
    Exit 0 when every source was indexed, 3 when some failed (their earlier chunks stay),
    1 when the index could not be written.
    """
    # Imported here so that `katha validate` and friends do not load LanceDB and PyArrow.
    from ingestion.job import exit_code, quiet_http_logs, run_file
    from ingestion.settings import IngestionSettings
    from katha.api import InvalidResourceError
    from katha.observability import configure_logging

    if not business.is_file():
        typer.secho(f"✗ {business}: no such file", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=2)
    settings = IngestionSettings()
    configure_logging(settings.log_level, str(settings.log_format))
    quiet_http_logs()
    try:
        reports = run_file(
            business, index_dir, configmap_dir=configmap_dir, base_dir=base_dir, settings=settings
        )
    except InvalidResourceError as error:
        typer.secho(f"✗ {error}", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=2) from None
    if settings.pushgateway_url:
        from ingestion.metrics import push_reports

        push_reports(reports, settings.pushgateway_url, settings.fetch_timeout_seconds)
    for report in reports:
        if json_output:
            typer.echo(json.dumps(report.as_dict(), ensure_ascii=False))
        else:
            typer.echo(report.render())
    if not reports:
        typer.secho(f"✗ {business}: holds no Business", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=2)
    raise typer.Exit(code=exit_code(reports))
