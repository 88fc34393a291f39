"""`python -m katha_cli` runs the same command as `katha`."""

from katha_cli.app import main

main()
