"""Conversation memory: a LangGraph checkpointer keyed by conversation id, and forgetting.

SQLite on the tenant's volume by default; Postgres when a URL is configured (needs the
`langgraph-checkpoint-postgres` and `psycopg[binary,pool]` packages). A conversation
untouched for longer than the retention period is deleted before its next message, and
by `forget_expired` in bulk.
"""

import sqlite3
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.checkpoint.sqlite import SqliteSaver

from agent_runtime.clock import Clock, utc_now
from katha.observability import get_logger

log = get_logger("agent")
# The Postgres saver serialises its calls with a lock: more connections would sit idle.
POSTGRES_CONNECTIONS = 2
# The state's own types, allowed back out of a checkpoint.
_STATE_TYPES = [
    ("agent_runtime.retrieval", "Passage"),
    ("agent_runtime.websearch", "WebResult"),
    ("agent_runtime.state", "Turn"),
]


def checkpointer(sqlite_path: Path, postgres_url: str | None = None) -> BaseCheckpointSaver[Any]:
    serde = JsonPlusSerializer(allowed_msgpack_modules=_STATE_TYPES)
    if postgres_url:
        return _postgres(postgres_url, serde)
    sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(sqlite_path, check_same_thread=False, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    # Safe from corruption in WAL mode; a power cut may lose the last turns' memory. FULL
    # would sync the disk twice per message (the checkpoint and its pruning), in the
    # reply's path.
    connection.execute("PRAGMA synchronous=NORMAL")
    return SqliteSaver(connection, serde=serde)


def _postgres(url: str, serde: JsonPlusSerializer) -> BaseCheckpointSaver[Any]:
    """Postgres through a psycopg 3 pool, with the connection settings the saver needs.

    A pool, not one connection: a connection checked before use is replaced when the
    server restarts, where a single one would fail every later message.
    """
    try:
        from langgraph.checkpoint.postgres import (  # type: ignore[import-not-found,unused-ignore]
            PostgresSaver,
        )
        from psycopg import Connection  # type: ignore[import-not-found,unused-ignore]
        from psycopg.rows import DictRow, dict_row  # type: ignore[import-not-found,unused-ignore]
        from psycopg_pool import ConnectionPool  # type: ignore[import-not-found,unused-ignore]
    except ImportError as error:
        raise RuntimeError(
            "a Postgres conversation store needs langgraph-checkpoint-postgres and "
            "psycopg[binary,pool] installed"
        ) from error
    pool: ConnectionPool[Connection[DictRow]] = ConnectionPool(
        url,
        connection_class=Connection[DictRow],
        min_size=1,
        max_size=POSTGRES_CONNECTIONS,
        kwargs={"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row},
        check=ConnectionPool.check_connection,
        name="katha-conversations",
        open=True,
    )
    saver: BaseCheckpointSaver[Any] = PostgresSaver(pool, serde=serde)
    saver.setup()  # type: ignore[attr-defined,unused-ignore]
    return saver


def expired(
    saver: BaseCheckpointSaver[Any],
    conversation_id: str,
    retention: timedelta,
    clock: Clock = utc_now,
) -> bool:
    """True when this conversation was last touched longer ago than `retention`."""
    latest = saver.get_tuple({"configurable": {"thread_id": conversation_id}})
    if latest is None:
        return False
    return clock() - datetime.fromisoformat(latest.checkpoint["ts"]) > retention


def keep_latest(saver: BaseCheckpointSaver[Any], conversation_id: str) -> None:
    """Drop all but a conversation's latest checkpoint: the history lives in its state."""
    if not isinstance(saver, SqliteSaver):  # Postgres: its saver prunes itself
        saver.prune([conversation_id], strategy="keep_latest")
        return
    latest = "SELECT MAX(checkpoint_id) FROM checkpoints WHERE thread_id = ?"
    with saver.lock, saver.conn:  # SqliteSaver has no prune(); its tables are documented
        for table in ("checkpoints", "writes"):
            saver.conn.execute(
                f"DELETE FROM {table} WHERE thread_id = ? AND checkpoint_id < ({latest})",  # noqa: S608 - table names are ours
                (conversation_id, conversation_id),
            )


def remembered(saver: BaseCheckpointSaver[Any], conversation_id: str) -> dict[str, Any] | None:
    """What the memory keeps of one conversation (a customer's data export): its turns,
    oldest first, the last message and answer, and when it was last touched; None when
    nothing is kept."""
    config: Any = {"configurable": {"thread_id": conversation_id}}
    latest = saver.get_tuple(config)
    if latest is None:
        return None
    values = latest.checkpoint["channel_values"]
    turns = [
        {"role": turn.role, "text": turn.text, "language": turn.language}
        for turn in values.get("history", [])
    ]
    return {
        "updated_at": latest.checkpoint["ts"],
        "checkpoints": sum(1 for _ in saver.list(config)),
        "history": turns,
        "last_message": values.get("message") or None,
        "last_answer": values.get("answer"),
        "language": values.get("language"),
    }


def forget_conversation(saver: BaseCheckpointSaver[Any], conversation_id: str) -> int:
    """Delete every checkpoint of one conversation (a customer asked to be forgotten); how
    many there were. Deleting again finds none."""
    config: Any = {"configurable": {"thread_id": conversation_id}}
    count = sum(1 for _ in saver.list(config))
    saver.delete_thread(conversation_id)
    return count


def forget(saver: BaseCheckpointSaver[Any], conversation_id: str) -> None:
    saver.delete_thread(conversation_id)
    log.info("conversation.forgotten")


def forget_expired(
    saver: BaseCheckpointSaver[Any], retention: timedelta, clock: Clock = utc_now
) -> int:
    """Delete every conversation older than `retention`; returns how many were deleted."""
    latest: dict[str, str] = {}
    for item in saver.list(None):
        thread = str(item.config["configurable"]["thread_id"])
        latest[thread] = max(latest.get(thread, ""), item.checkpoint["ts"])
    now = clock()
    old = [thread for thread, ts in latest.items() if now - datetime.fromisoformat(ts) > retention]
    for thread in old:
        saver.delete_thread(thread)
    if old:
        log.info("conversations.forgotten", count=len(old))
    return len(old)


def close(saver: BaseCheckpointSaver[Any]) -> None:
    """Close the saver's SQLite connection or Postgres pool."""
    connection: Any = getattr(saver, "conn", None)
    if connection is not None:
        connection.close()
