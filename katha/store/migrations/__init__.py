"""Alembic migrations of the conversation store; run them with `katha.store.upgrade`."""
