"""API tokens expire.

A token of a shop's integration used to be valid until an owner deleted it. Each now has
an end (`expires_at`); a token made before this revision is given one 90 days after the
upgrade, so the systems that use it keep working while their owners make new ones.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05
"""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EXISTING_TOKENS_DAYS = 90


def upgrade() -> None:
    op.add_column("console_api_tokens", sa.Column("expires_at", sa.DateTime(timezone=True)))
    tokens = sa.table("console_api_tokens", sa.column("expires_at", sa.DateTime(timezone=True)))
    # UTC, as the store writes every time: on SQLite the text of the UTC time, without an
    # offset (models.UtcDateTime), so that it sorts and reads back as the others do.
    ends = datetime.now(UTC) + timedelta(days=EXISTING_TOKENS_DAYS)
    if op.get_bind().dialect.name == "sqlite":
        ends = ends.replace(tzinfo=None)
    op.execute(tokens.update().where(tokens.c.expires_at.is_(None)).values(expires_at=ends))


def downgrade() -> None:
    with op.batch_alter_table("console_api_tokens") as batch:
        batch.drop_column("expires_at")
