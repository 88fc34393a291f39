"""Which databases the store runs on, and the driver each one is reached with.

People write the URL they know (`sqlite:///path`, `postgresql://...`); the store reaches
SQLite through aiosqlite and PostgreSQL through psycopg 3 (async in the store, sync for
migrations, so a Job needs no event loop).
"""

from typing import Literal

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

URL_ENV = "KATHA_STORE_URL"

_ASYNC = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+psycopg"}
_SYNC = {"sqlite": "sqlite", "postgresql": "postgresql+psycopg"}
# The spellings accepted for each database.
_ACCEPTED = {
    "sqlite": "sqlite",
    "sqlite+aiosqlite": "sqlite",
    "sqlite+pysqlite": "sqlite",
    "postgresql": "postgresql",
    "postgres": "postgresql",
    "postgresql+psycopg": "postgresql",
}


class StoreUrlError(ValueError):
    """The store URL is not one the store can use; the message says why and what to write."""


def store_url(url: str, *, mode: Literal["async", "sync"] = "async") -> URL:
    """`url` with the driver the store uses in `mode`. Raises StoreUrlError."""
    if not url.strip():
        raise StoreUrlError(f"no store URL: set {URL_ENV} or pass --url")
    try:
        parsed = make_url(url.strip())
    except ArgumentError:
        raise StoreUrlError(
            "the store URL is not a database URL: write sqlite:///path/to/katha.db "
            "or postgresql://user@host/db"
        ) from None
    database = _ACCEPTED.get(parsed.drivername)
    if database is None:
        raise StoreUrlError(
            f"the store runs on SQLite or PostgreSQL (psycopg), not {parsed.drivername!r}"
        )
    if database == "sqlite" and parsed.database in (None, "", ":memory:"):
        raise StoreUrlError("a SQLite store needs a file: sqlite:///path/to/katha.db")
    drivers = _ASYNC if mode == "async" else _SYNC
    return parsed.set(drivername=drivers[database])
