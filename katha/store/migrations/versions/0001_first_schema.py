"""The first schema: conversations and their events.

Revision ID: 0001
Revises:
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "conversations",
        sa.Column("tenant", sa.String(317), primary_key=True),
        sa.Column("conversation_id", sa.String(128), primary_key=True),
        sa.Column("customer_name", sa.String(256)),
        sa.Column("customer_handle", sa.String(128)),
        sa.Column("language", sa.String(64)),
        sa.Column("last_at", WHEN, nullable=False),
        sa.Column("last_text", sa.String(200)),
        sa.Column("messages", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created_at", WHEN, nullable=False),
    )
    op.create_index(
        "ix_conversations_tenant_last_at",
        "conversations",
        ["tenant", "last_at", "conversation_id"],
    )
    op.create_table(
        "events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
        sa.Column("tenant", sa.String(317), nullable=False),
        sa.Column("conversation_id", sa.String(128), nullable=False),
        sa.Column("event_id", sa.String(300), nullable=False),
        sa.Column("at", WHEN, nullable=False),
        sa.Column("author", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("text", sa.Text),
        sa.Column("message_type", sa.String(64)),
        sa.Column("language", sa.String(64)),
        sa.Column("intent", sa.String(64)),
        sa.Column("sources", sa.JSON, nullable=False),
        sa.Column("handoff_reason", sa.String(1000)),
        sa.Column("customer_name", sa.String(256)),
        sa.Column("customer_handle", sa.String(128)),
        sa.UniqueConstraint("tenant", "event_id", name="uq_events_tenant_event_id"),
    )
    op.create_index("ix_events_thread", "events", ["tenant", "conversation_id", "at", "id"])
    op.create_index("ix_events_tenant_at", "events", ["tenant", "at"])


def downgrade() -> None:
    op.drop_table("events")
    op.drop_table("conversations")
