"""The top-level `katha` command and its subcommands."""

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from katha import __version__
from katha.api import InvalidResourceError, load_resources
from katha.crd import all_crds, render_yaml
from katha_cli.ingest import ingest
from katha_cli.one_machine import ask, chat, up
from katha_cli.refresh import refresh

app = typer.Typer(
    name="katha",
    help="Katha: AI customer-service agents on WhatsApp for Sri Lankan businesses.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
DEBUG_ENV = "KATHA_DEBUG"


def main() -> None:
    """The `katha` command: whatever goes wrong is one line for the user, never a traceback
    (set KATHA_DEBUG=1 to see where it happened)."""
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as error:
        if os.environ.get(DEBUG_ENV):
            raise
        reason = str(error).strip().splitlines()[0][:300] if str(error).strip() else ""
        typer.secho(f"✗ {type(error).__name__}: {reason}", fg=typer.colors.RED, err=True)
        typer.secho(f"  (set {DEBUG_ENV}=1 to see where it happened)", err=True)
        sys.exit(1)


app.command("ingest")(ingest)
app.command("up")(up)
app.command("chat")(chat)
app.command("ask")(ask)
app.command("refresh")(refresh)


@app.command()
def version() -> None:
    """Print Katha's version."""
    typer.echo(__version__)


@app.command()
def validate(
    files: Annotated[
        list[Path],
        typer.Argument(help="Business / LanguageModel YAML files (several documents per file)."),
    ],
) -> None:
    """Check Business and LanguageModel files; explain every problem with its field path."""
    failures = 0
    for path in files:
        if not path.is_file():
            typer.secho(f"✗ {path}: no such file", fg=typer.colors.RED, err=True)
            failures += 1
            continue
        try:
            resources = load_resources(path)
        except InvalidResourceError as error:
            typer.secho(f"✗ {error}", fg=typer.colors.RED, err=True)
            failures += 1
            continue
        for resource in resources:
            kind = getattr(resource, "kind", "?")
            name = getattr(getattr(resource, "metadata", None), "name", "?")
            typer.secho(f"✓ {path}: {kind}/{name} is valid", fg=typer.colors.GREEN)
        if not resources:
            typer.secho(f"✗ {path}: holds no resources", fg=typer.colors.RED, err=True)
            failures += 1
    if failures:
        typer.secho(f"{failures} of {len(files)} file(s) invalid", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=1)


@app.command()
def crd(
    write: Annotated[
        Path | None, typer.Option(help="Write one file per CRD into this folder.")
    ] = None,
    check: Annotated[
        Path | None, typer.Option(help="Exit 1 if the CRD files in this folder are stale.")
    ] = None,
) -> None:
    """Print the CustomResourceDefinitions generated from the API models (or write / check them)."""
    rendered = {name: render_yaml(definition) for name, definition in all_crds().items()}
    if check is not None:
        stale = [
            name
            for name, text in rendered.items()
            if not (check / name).is_file() or (check / name).read_text(encoding="utf-8") != text
        ]
        if stale:
            typer.secho(
                f"stale CRDs in {check}: {', '.join(stale)}; run `katha crd --write {check}`",
                fg=typer.colors.RED,
                err=True,
            )
            raise typer.Exit(code=1)
        typer.echo(f"CRDs in {check} are up to date")
        return
    if write is not None:
        write.mkdir(parents=True, exist_ok=True)
        for name, text in rendered.items():
            (write / name).write_text(text, encoding="utf-8")
            typer.echo(f"wrote {write / name}")
        return
    typer.echo("---\n".join(rendered.values()), nl=False)
