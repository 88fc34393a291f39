"""The engines the store and its migrations run on, with SQLite set up for several writers.

SQLite runs in WAL mode (readers never wait for the writer) with a busy timeout (a writer
waits for another instead of failing). A transaction that writes starts with
`BEGIN IMMEDIATE`: one that began as a reader and later wrote could fail with "database is
locked" without waiting, because SQLite cannot upgrade its lock while another writes.
"""

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from katha.store.urls import store_url

SQLITE_BUSY_TIMEOUT_MS = 10_000
# The execution option that marks a connection whose transaction will write.
WRITES = "katha_writes"


def sync_engine(url: str) -> Engine:
    """For migrations: one connection, closed when done."""
    engine = create_engine(
        store_url(url, mode="sync"), poolclass=NullPool, execution_options={WRITES: True}
    )
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
    return engine


def async_engine(url: str) -> AsyncEngine:
    """For the store: a pool of async connections."""
    engine = create_async_engine(store_url(url, mode="async"), pool_pre_ping=True)
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_connect)
        event.listen(engine.sync_engine, "begin", _sqlite_begin)
    return engine


def _sqlite_connect(dbapi_connection: Any, _record: object) -> None:
    # The driver's own transaction handling is switched off so that `_sqlite_begin` decides
    # how each transaction starts (the pattern SQLAlchemy documents for SQLite).
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode = WAL")
    # In WAL mode NORMAL cannot corrupt the file; a power cut may lose the last commits,
    # which the router's inbox would deliver again. FULL syncs the disk on every commit:
    # a few writes per reply, about 2 ms each here.
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()
    dbapi_connection.isolation_level = None


def _sqlite_begin(connection: Connection) -> None:
    writes = connection.get_execution_options().get(WRITES, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")
