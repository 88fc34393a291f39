"""The owner console's own tables: sessions, one-time sign-in codes, API tokens, audit log.

New tables only: the conversations and events are left exactly as they are.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = sa.DateTime(timezone=True)
HASH = sa.String(64)
SUBJECT = sa.String(400)
TENANT = sa.String(317)


def upgrade() -> None:
    op.create_table(
        "console_sessions",
        sa.Column("id", HASH, primary_key=True),
        sa.Column("subject", SUBJECT, nullable=False),
        sa.Column("display", sa.String(256), nullable=False),
        sa.Column("tenants", sa.JSON, nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("expires_at", WHEN, nullable=False),
        sa.Column("last_seen_at", WHEN, nullable=False),
    )
    op.create_index("ix_console_sessions_expires_at", "console_sessions", ["expires_at"])
    op.create_table(
        "console_login_codes",
        sa.Column("id", HASH, primary_key=True),
        sa.Column("code_hash", HASH, nullable=False),
        sa.Column("number_hash", HASH, nullable=False),
        sa.Column("client_hash", HASH, nullable=False),
        sa.Column("tenants", sa.JSON, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("expires_at", WHEN, nullable=False),
    )
    op.create_index(
        "ix_console_login_codes_number", "console_login_codes", ["number_hash", "created_at"]
    )
    op.create_index(
        "ix_console_login_codes_client", "console_login_codes", ["client_hash", "created_at"]
    )
    op.create_table(
        "console_api_tokens",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("tenant", TENANT, nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("token_hash", HASH, nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("created_by", SUBJECT, nullable=False),
        sa.Column("last_used_at", WHEN),
    )
    op.create_index("ix_console_api_tokens_tenant", "console_api_tokens", ["tenant", "created_at"])
    op.create_table(
        "console_audit",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
        sa.Column("at", WHEN, nullable=False),
        sa.Column("subject", SUBJECT, nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("tenant", TENANT),
        sa.Column("target", sa.String(300)),
        sa.Column("client_ip", sa.String(64)),
    )
    op.create_index("ix_console_audit_tenant_at", "console_audit", ["tenant", "at"])
    op.create_index("ix_console_audit_at", "console_audit", ["at"])


def downgrade() -> None:
    for table in ("console_audit", "console_api_tokens", "console_login_codes"):
        op.drop_table(table)
    op.drop_table("console_sessions")
