"""One conversation's rows in the SQLite inbox, read for an export and deleted for a
customer who asked to be forgotten, and the inbox's daily retention pass."""

import sqlite3

from router.inbox.base import RECORD_FAMILY as FAMILY
from router.inbox.base import InboxEntry

# Characters LIKE treats specially, escaped so that a prefix matches only itself.
_LIKE_ESCAPE = str.maketrans({"\\": "\\\\", "%": "\\%", "_": "\\_"})


def entries(db: sqlite3.Connection, conversation_id: str) -> list[InboxEntry]:
    rows = db.execute(
        "SELECT message_id, tenant, received_at, state, body FROM inbox"
        " WHERE conversation_id = ? ORDER BY seq",
        (conversation_id,),
    ).fetchall()
    return [
        InboxEntry(row[0], row[1], row[2], row[3], str(row[4]) if row[4] else None) for row in rows
    ]


def forget(db: sqlite3.Connection, conversation_id: str) -> tuple[int, int]:
    """Delete the conversation's rows in every table (the caller holds a transaction).
    Answered rows go too: they keep Meta's message id, which carries the customer's
    number, so a redelivery of one of them after this would be answered again. Returns
    (messages deleted, of which not yet answered)."""
    where = "SELECT {column} FROM inbox WHERE conversation_id = ?"
    for table, column, key in (
        ("replies", "message_id", "message_id"),
        ("sent", "message_id", "message_id"),
        ("dead_letters", "entry_seq", "seq"),
    ):
        db.execute(
            f"DELETE FROM {table} WHERE {column} IN ({where.format(column=key)})",  # noqa: S608 - our names
            (conversation_id,),
        )
    pending = db.execute(
        "SELECT COUNT(*) FROM inbox WHERE conversation_id = ? AND state != 'done'",
        (conversation_id,),
    ).fetchone()[0]
    deleted = db.execute("DELETE FROM inbox WHERE conversation_id = ?", (conversation_id,))
    db.execute("DELETE FROM conversations WHERE conversation_id = ?", (conversation_id,))
    return deleted.rowcount, int(pending)


def records_named(
    db: sqlite3.Connection, prefix: str, value: str | None, now: float | None
) -> dict[str, str]:
    """The record called `prefix`, or, when it ends with FAMILY, every record whose name
    starts with it (and whose value is `value`); with `now`, only those not expired."""
    if prefix.endswith(FAMILY):
        query = "SELECT name, value FROM records WHERE name LIKE ? ESCAPE '\\'"
        params: list[object] = [prefix.translate(_LIKE_ESCAPE) + "%"]
    else:
        query, params = "SELECT name, value FROM records WHERE name = ?", [prefix]
    if value is not None:
        query += " AND value = ?"
        params.append(value)
    if now is not None:
        query += " AND (expires_at IS NULL OR expires_at > ?)"
        params.append(now)
    return {str(name): str(stored) for name, stored in db.execute(query, params).fetchall()}


def forget_records(db: sqlite3.Connection, prefix: str, value: str | None) -> int:
    names = list(records_named(db, prefix, value, None))
    for name in names:
        db.execute("DELETE FROM records WHERE name = ?", (name,))
    return len(names)


def forget_expired(db: sqlite3.Connection, now: float, idle_seconds: float) -> int:
    """Expired records, and conversation state idle for longer than `idle_seconds` with
    no handoff running and no message waiting (Redis lets the same state expire by TTL)."""
    records = db.execute(
        "DELETE FROM records WHERE expires_at IS NOT NULL AND expires_at <= ?", (now,)
    ).rowcount
    idle = db.execute(
        "DELETE FROM conversations WHERE COALESCE(last_inbound_at, 0) < ?"
        " AND COALESCE(handoff_until, 0) < ?"
        " AND conversation_id NOT IN"
        " (SELECT conversation_id FROM inbox WHERE state != 'done')",
        (now - idle_seconds, now),
    ).rowcount
    return int(records) + int(idle)
