"""Alembic's entry point: runs the migrations on the connection `katha.store.upgrade` opens.

There is no alembic.ini: the Config is built in code, so the Helm hook Job and `katha up`
need nothing on disk but the package.
"""

from alembic import context
from sqlalchemy.engine import Connection

from katha.store.models import metadata


def run_migrations(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=metadata, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise RuntimeError("run the store's migrations with katha.store.upgrade(url)")
run_migrations(connection)
