"""Bring a store's schema to a revision with Alembic, with no alembic.ini on disk.

Synchronous on purpose: the Helm hook Job and `katha up` run it before anything serves,
and a plain function is easiest to call from both.
"""

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext

from katha.store.engines import sync_engine

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config() -> Config:
    """The Config that points Alembic at this package's migrations."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the store at `url` up to `revision`.

    Raises StoreUrlError for a URL the store cannot use, and SQLAlchemy's OperationalError
    when the database cannot be reached.
    """
    config = alembic_config()
    engine = sync_engine(url)
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    finally:
        engine.dispose()


def current_revision(url: str) -> str | None:
    """The revision the store at `url` is at; None when it was never migrated."""
    engine = sync_engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()
