"""The `katha` command line: validate resources and print the CRDs."""

from katha.cli.app import app

__all__ = ["app"]
