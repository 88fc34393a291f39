"""The `katha` command line: validate resources and print the CRDs."""

from katha.cli.app import app, main

__all__ = ["app", "main"]
