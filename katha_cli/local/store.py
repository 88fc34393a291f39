"""The conversation store of `katha up`: one SQLite file in the state folder, brought to the
newest schema before the router starts (a cluster runs the same migrations in a Helm hook
Job), so the router can keep every conversation from its first message."""

from pathlib import Path

STORE_FILE = "conversations.db"


class StoreMigrationError(RuntimeError):
    """The store could not be migrated; the message says which file and why, in one line."""


def store_path(state_dir: Path) -> Path:
    return state_dir / STORE_FILE


def store_url(state_dir: Path) -> str:
    """`sqlite:///` and an absolute path (four slashes), whatever the working folder is."""
    return f"sqlite:///{store_path(state_dir).resolve()}"


def migrate_store(state_dir: Path) -> str:
    """Create or upgrade the store in `state_dir` to the newest schema; its URL.

    Runs in this process (the store's migrations need no alembic.ini). A store left by a
    newer Katha, a file that is not a database or a folder that cannot be written stops
    `katha up` here, before minutes of indexing, with `StoreMigrationError`.
    """
    # Imported here: SQLAlchemy and Alembic load only when `katha up` runs.
    from alembic.util import CommandError
    from sqlalchemy.exc import SQLAlchemyError

    from katha.store import StoreUrlError, upgrade

    path = store_path(state_dir)
    url = store_url(state_dir)
    try:
        upgrade(url)
    except (StoreUrlError, SQLAlchemyError, CommandError, OSError) as error:
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        raise StoreMigrationError(
            f"the conversation store {path} could not be migrated: {reason} "
            f"(move the file away to start with an empty one)"
        ) from None
    return url
