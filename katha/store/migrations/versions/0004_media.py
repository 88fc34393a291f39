"""Customers' media (voice notes, photos, documents) beside their conversations.

A new table only: the router keeps each file it fetched from the Graph API, and the
retention sweep and a customer's deletion remove it with the conversation.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "media",
        sa.Column("tenant", sa.String(317), primary_key=True),
        sa.Column("media_id", sa.String(256), primary_key=True),
        sa.Column("conversation_id", sa.String(128), nullable=False),
        sa.Column("message_id", sa.String(300), nullable=False),
        sa.Column("at", WHEN, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("mime_type", sa.String(128), nullable=False),
        sa.Column("filename", sa.String(256)),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=False),
    )
    op.create_index("ix_media_conversation", "media", ["tenant", "conversation_id"])
    op.create_index("ix_media_tenant_at", "media", ["tenant", "at"])


def downgrade() -> None:
    op.drop_table("media")
