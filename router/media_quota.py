"""The per-Business daily count of GPU-costly media (voice notes, photos), by message
type, kept in the router's inbox so that every replica shares it: SQLite's file for one
replica, Redis for several. A message is counted once, however often it is retried, and
given its place back when its download fails after all (it cost no GPU)."""

import sqlite3
from datetime import date, timedelta
from typing import Any, Protocol

from router.inbox.base import Inbox
from router.inbox.sqlite import SqliteInbox

_SQLITE_TABLE = """
CREATE TABLE IF NOT EXISTS media_day (
    tenant TEXT NOT NULL, kind TEXT NOT NULL, day TEXT NOT NULL, message_id TEXT NOT NULL,
    PRIMARY KEY (tenant, kind, day, message_id)
)
"""
# Member already counted: yes. Else one more if the day's count is below the cap.
_REDIS_TAKE = """
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then return 1 end
if redis.call('SCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('SADD', KEYS[1], ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return 1
"""
KEEP_DAYS = 2  # a day's count is kept past its end: a replica's clock may lag a little


class DailyMediaCount(Protocol):
    async def take(self, tenant: str, kind: str, message_id: str, cap: int, day: date) -> bool:
        """Count `message_id` for `tenant`'s `kind` of media on `day` if the day's count is
        below `cap`; True when it is counted (now or before), False past the cap."""
        ...

    async def release(self, tenant: str, kind: str, message_id: str, day: date) -> None:
        """Give back `message_id`'s place on `day` (its download failed); nothing if none."""
        ...


class SqliteDailyCount:
    def __init__(self, inbox: SqliteInbox) -> None:
        self._inbox = inbox
        self._ready = False

    async def take(self, tenant: str, kind: str, message_id: str, cap: int, day: date) -> bool:
        db = self._inbox.db
        if not self._ready:
            db.execute(_SQLITE_TABLE)
            self._ready = True
        db.execute("BEGIN IMMEDIATE")
        try:
            counted = _sqlite_take(db, (tenant, kind, day.isoformat()), message_id, cap)
            old = (day - timedelta(days=KEEP_DAYS)).isoformat()
            db.execute("DELETE FROM media_day WHERE day < ?", (old,))
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        return counted

    async def release(self, tenant: str, kind: str, message_id: str, day: date) -> None:
        if self._ready:  # no table yet: nothing was taken
            self._inbox.db.execute(
                "DELETE FROM media_day WHERE tenant = ? AND kind = ? AND day = ? "
                "AND message_id = ?",
                (tenant, kind, day.isoformat(), message_id),
            )


def _sqlite_take(
    db: sqlite3.Connection, scope: tuple[str, str, str], message_id: str, cap: int
) -> bool:
    """`scope`: tenant, kind, day."""
    where = "tenant = ? AND kind = ? AND day = ?"
    if db.execute(
        f"SELECT 1 FROM media_day WHERE {where} AND message_id = ?",  # noqa: S608 - ours
        (*scope, message_id),
    ).fetchone():
        return True
    count = db.execute(f"SELECT COUNT(*) FROM media_day WHERE {where}", scope).fetchone()[0]  # noqa: S608 - ours
    if int(count) >= cap:
        return False
    db.execute(
        "INSERT INTO media_day (tenant, kind, day, message_id) VALUES (?, ?, ?, ?)",
        (*scope, message_id),
    )
    return True


class RedisDailyCount:
    """One set per Business and day, of the message ids counted; one Lua call decides, so
    two replicas never both take the last place."""

    def __init__(self, inbox: Any) -> None:
        self._inbox = inbox
        self._script: Any = None

    async def take(self, tenant: str, kind: str, message_id: str, cap: int, day: date) -> bool:
        client = self._inbox.redis
        if self._script is None:
            self._script = client.register_script(_REDIS_TAKE)
        key = self._key(tenant, kind, day)
        ttl = KEEP_DAYS * 86400
        return bool(await self._script(keys=[key], args=[message_id, cap, ttl], client=client))

    async def release(self, tenant: str, kind: str, message_id: str, day: date) -> None:
        await self._inbox.redis.srem(self._key(tenant, kind, day), message_id)

    def _key(self, tenant: str, kind: str, day: date) -> str:
        prefix = getattr(self._inbox, "_p", "katha:")
        return f"{prefix}media-day:{tenant}:{kind}:{day.isoformat()}"


class MemoryDailyCount:
    """For an inbox of another kind (none ships): this process's own count."""

    def __init__(self) -> None:
        self._days: dict[tuple[str, str, date], set[str]] = {}

    async def take(self, tenant: str, kind: str, message_id: str, cap: int, day: date) -> bool:
        counted = self._days.setdefault((tenant, kind, day), set())
        if message_id in counted:
            return True
        if len(counted) >= cap:
            return False
        counted.add(message_id)
        return True

    async def release(self, tenant: str, kind: str, message_id: str, day: date) -> None:
        self._days.get((tenant, kind, day), set()).discard(message_id)


def daily_count(inbox: Inbox) -> DailyMediaCount:
    """The count kept where `inbox` keeps its state."""
    if isinstance(inbox, SqliteInbox):
        return SqliteDailyCount(inbox)
    from router.inbox.redis import RedisInbox

    if isinstance(inbox, RedisInbox):
        return RedisDailyCount(inbox)
    return MemoryDailyCount()
