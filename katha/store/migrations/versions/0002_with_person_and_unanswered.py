"""The owner's filters: who is answering (`with_person`) and who is waiting (`unanswered`).

Both are filled in from the events already stored, with the times that keep them right
when later events arrive out of order (the newest handoff, customer message and reply).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = sa.DateTime(timezone=True)
REPLIERS = ("agent", "person", "owner_app")
HANDOFFS = ("handoff_started", "handoff_released")

conversations = sa.table(
    "conversations",
    sa.column("tenant", sa.String),
    sa.column("conversation_id", sa.String),
    sa.column("with_person", sa.Boolean),
    sa.column("unanswered", sa.Boolean),
    sa.column("handoff_at", WHEN),
    sa.column("last_customer_at", WHEN),
    sa.column("last_reply_at", WHEN),
)
events = sa.table(
    "events",
    sa.column("id", sa.Integer),
    sa.column("tenant", sa.String),
    sa.column("conversation_id", sa.String),
    sa.column("at", WHEN),
    sa.column("author", sa.String),
    sa.column("kind", sa.String),
)


def upgrade() -> None:
    for flag in ("with_person", "unanswered"):
        op.add_column(
            "conversations",
            sa.Column(flag, sa.Boolean, nullable=False, server_default=sa.false()),
        )
    for moment in ("handoff_at", "last_customer_at", "last_reply_at"):
        op.add_column("conversations", sa.Column(moment, WHEN))
    _backfill()
    op.create_index(
        "ix_conversations_with_person", "conversations", ["tenant", "with_person", "last_at"]
    )
    op.create_index(
        "ix_conversations_unanswered", "conversations", ["tenant", "unanswered", "last_at"]
    )


def _backfill() -> None:
    """Each conversation's flags from its own events, in SQL (no rows pass through Python)."""
    message, replies = events.c.kind.in_(("message", "template")), events.c.author.in_(REPLIERS)
    op.execute(
        conversations.update().values(
            last_customer_at=_newest(
                events.c.at, events.c.kind == "message", events.c.author == "customer"
            ),
            last_reply_at=_newest(events.c.at, message, replies),
            handoff_at=_newest(events.c.at, events.c.kind.in_(HANDOFFS)),
        )
    )
    last_handoff = _newest(events.c.kind, events.c.kind.in_(HANDOFFS))
    customer, reply = conversations.c.last_customer_at, conversations.c.last_reply_at
    waiting = sa.and_(customer.is_not(None), sa.or_(reply.is_(None), customer > reply))
    op.execute(
        conversations.update().values(
            with_person=sa.case((last_handoff == "handoff_started", sa.true()), else_=sa.false()),
            unanswered=sa.case((waiting, sa.true()), else_=sa.false()),
        )
    )


def _newest(column: sa.ColumnElement[Any], *where: sa.ColumnElement[bool]) -> sa.ScalarSelect[Any]:
    """`column` of the conversation's newest event that matches `where`."""
    return (
        sa.select(column)
        .where(
            events.c.tenant == conversations.c.tenant,
            events.c.conversation_id == conversations.c.conversation_id,
            *where,
        )
        .order_by(events.c.at.desc(), events.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )


def downgrade() -> None:
    op.drop_index("ix_conversations_unanswered", table_name="conversations")
    op.drop_index("ix_conversations_with_person", table_name="conversations")
    with op.batch_alter_table("conversations") as batch:
        for column in ("last_reply_at", "last_customer_at", "handoff_at"):
            batch.drop_column(column)
        for column in ("unanswered", "with_person"):
            batch.drop_column(column)
