"""`python -m katha.cli` runs the same command as `katha`."""

from katha.cli.app import main

main()
