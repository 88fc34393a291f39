"""The `katha` command line and the one-machine runner (`katha up`): the top of the house,
the one package that may import every component below it."""

from katha_cli.app import app, main

__all__ = ["app", "main"]
