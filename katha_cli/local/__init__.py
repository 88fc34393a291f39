"""Katha on one machine: `katha up` runs the platform, `katha chat` talks to it."""

from collections.abc import Callable

Say = Callable[[str], None]  # where `katha up` tells its user what happens, one line a call
