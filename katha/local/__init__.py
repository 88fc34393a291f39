"""Katha on one machine: `katha up` runs the platform, `katha chat` talks to it."""
