"""The default inbox: one SQLite file in WAL mode, for one router process.

Writes are synchronous in the event loop on purpose: a WAL commit with synchronous=NORMAL
is tens of microseconds, cheaper than a thread hop, and it survives a killed process
(not a power cut: that would take synchronous=FULL). One process owns the file, so
messages leased when it starts were leased by a process that died: they go back.
"""

import asyncio
import contextlib
import secrets
import sqlite3
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from pathlib import Path

from router.envelope import Envelope
from router.inbox import sqlite_customers
from router.inbox.base import ConversationState, InboxEntry, InboxStats, InboxUnavailableError
from router.inbox.dead_letters import (
    DeadLetter,
    DeadLetterListener,
    UnloadableEntryError,
    load,
    size_of,
)
from router.inbox.sqlite_schema import DEPTH, HEADS, OLDEST, SCHEMA

# The daily pass over what expires (records, idle conversation state), run from the
# dispatcher's claims like the dedupe pruning: a quiet router still forgets on time.
RETENTION_SECONDS = 86400.0


class SqliteInbox:
    def __init__(self, path: Path, dedupe_seconds: float = 7 * 86400) -> None:
        self._path = path
        self._dedupe_seconds = dedupe_seconds
        self._db: sqlite3.Connection | None = None
        self._last_prune = 0.0
        self._last_retention = 0.0
        self._batch: list[tuple[Sequence[Envelope], asyncio.Future[list[bool]]]] = []
        self._depth = 0
        self._listeners: list[DeadLetterListener] = []

    @property
    def db(self) -> sqlite3.Connection:
        if self._db is None:
            raise InboxUnavailableError("the SQLite inbox is not open")
        return self._db

    async def open(self) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA busy_timeout=5000")
        db.executescript(SCHEMA)
        db.execute("UPDATE inbox SET state = 'open' WHERE state = 'leased'")
        self._depth = int(db.execute(DEPTH).fetchone()[0])  # kept current from here on
        self._db = db

    async def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    async def ping(self) -> bool:
        try:
            self.db.execute("SELECT 1").fetchone()
        except (sqlite3.Error, InboxUnavailableError):
            return False
        return True

    async def secret_key(self) -> bytes:
        self.db.execute(
            "INSERT OR IGNORE INTO settings (name, value) VALUES ('pseudonym_key', ?)",
            (secrets.token_bytes(32),),
        )
        row = self.db.execute("SELECT value FROM settings WHERE name = 'pseudonym_key'").fetchone()
        return bytes(row[0])

    async def accept(self, envelopes: Sequence[Envelope]) -> list[bool]:
        """Group commit: webhooks handled in the same event-loop turn share one
        transaction, and each is answered only after that transaction committed."""
        done: asyncio.Future[list[bool]] = asyncio.get_running_loop().create_future()
        self._batch.append((envelopes, done))
        if len(self._batch) == 1:
            asyncio.get_running_loop().call_soon(self._commit_batch)
        return await done

    def _commit_batch(self) -> None:
        batch, self._batch = self._batch, []
        try:
            results = self._insert([envelope for envelopes, _ in batch for envelope in envelopes])
        except (sqlite3.Error, InboxUnavailableError) as error:
            failure = InboxUnavailableError(f"the SQLite inbox refused a write: {error}")
            for _, done in batch:
                if not done.done():
                    done.set_exception(failure)
            return
        for envelopes, done in batch:
            if not done.done():
                done.set_result(results[: len(envelopes)])
            results = results[len(envelopes) :]

    def _insert(self, envelopes: Sequence[Envelope]) -> list[bool]:
        fresh: list[bool] = []
        with self._transaction() as db:
            for envelope in envelopes:
                cursor = db.execute(
                    "INSERT OR IGNORE INTO inbox"
                    " (message_id, tenant, conversation_id, body, received_at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (
                        envelope.message_id,
                        envelope.tenant,
                        envelope.conversation_id,
                        envelope.stored(),
                        envelope.received_at,
                    ),
                )
                fresh.append(cursor.rowcount == 1)
        self._depth += sum(fresh)
        return fresh

    async def claim(
        self, limit: int, room: Callable[[str], int], exclude: Collection[str]
    ) -> list[Envelope]:
        skip = sorted(exclude)
        where = f"AND i.tenant NOT IN ({','.join('?' * len(skip))})" if skip else ""
        now = time.time()
        taken: list[Envelope] = []
        buried: list[DeadLetter] = []
        per_tenant: dict[str, int] = {}
        with self._transaction() as db:
            rows = db.execute(HEADS.format(exclude=where), (now, *skip, limit * 4))
            for seq, tenant, body, attempts in rows.fetchall():
                if len(taken) >= limit or per_tenant.get(tenant, 0) >= room(tenant):
                    continue
                try:
                    envelope = load(body, attempts=attempts, handle=str(seq))
                except UnloadableEntryError as error:
                    buried.append(self._bury(db, seq, tenant, body, error, now))
                    continue
                per_tenant[tenant] = per_tenant.get(tenant, 0) + 1
                db.execute("UPDATE inbox SET state = 'leased' WHERE seq = ?", (seq,))
                taken.append(envelope)
        self._depth -= len(buried)
        for letter in buried:  # after the commit: what listeners count is really moved
            for listener in self._listeners:
                listener(letter)
        self._prune(now)
        return taken

    def _bury(
        self,
        db: sqlite3.Connection,
        seq: int,
        tenant: str,
        body: str | bytes,
        error: UnloadableEntryError,
        now: float,
    ) -> DeadLetter:
        message_id = db.execute("SELECT message_id FROM inbox WHERE seq = ?", (seq,)).fetchone()
        size = size_of(body)
        cursor = db.execute(
            "INSERT INTO dead_letters (entry_seq, message_id, tenant, reason, detail, size,"
            " body, dead_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (seq, message_id[0], tenant, error.reason, error.detail, size, body, now),
        )
        db.execute("UPDATE inbox SET state = 'done', body = '' WHERE seq = ?", (seq,))
        return DeadLetter(
            id=str(cursor.lastrowid),
            entry_id=str(seq),
            message_id=message_id[0],
            tenant=tenant,
            reason=error.reason,
            detail=error.detail,
            size=size,
            dead_at=now,
        )

    def on_dead_letter(self, listener: DeadLetterListener) -> None:
        self._listeners.append(listener)

    async def dead_letters(self, limit: int) -> list[DeadLetter]:
        rows = self.db.execute(
            "SELECT id, entry_seq, message_id, tenant, reason, detail, size, dead_at"
            " FROM dead_letters ORDER BY id DESC LIMIT ?",
            (limit,),
        )
        return [
            DeadLetter(str(row[0]), str(row[1]), row[2], row[3], row[4], row[5], row[6], row[7])
            for row in rows.fetchall()
        ]

    def _prune(self, now: float) -> None:
        # Done rows stay (without their text) as long as Meta may redeliver: the dedupe.
        if now - self._last_prune < 60:
            return
        self._last_prune = now
        cutoff = now - self._dedupe_seconds
        self.db.execute("DELETE FROM inbox WHERE state = 'done' AND received_at < ?", (cutoff,))
        if now - self._last_retention >= RETENTION_SECONDS:
            self._last_retention = now
            sqlite_customers.forget_expired(self.db, now, self._dedupe_seconds)

    async def complete(self, envelope: Envelope) -> None:
        # The message's text, the agent's reply and the sent-markers are not kept once
        # answered: only the id stays, for dedupe.
        with self._transaction() as db:
            changed = db.execute(
                "UPDATE inbox SET state = 'done', body = '' WHERE seq = ? AND state != 'done'",
                (int(envelope.handle),),
            )
            db.execute("DELETE FROM replies WHERE message_id = ?", (envelope.message_id,))
            db.execute("DELETE FROM sent WHERE message_id = ?", (envelope.message_id,))
            self._depth -= changed.rowcount

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    async def retry_later(self, envelope: Envelope, delay_seconds: float) -> None:
        self.db.execute(
            "UPDATE inbox SET state = 'open', attempts = attempts + 1, available_at = ?"
            " WHERE seq = ?",
            (time.time() + delay_seconds, int(envelope.handle)),
        )

    async def stats(self) -> InboxStats:
        row = self.db.execute(OLDEST).fetchone()
        return InboxStats(self._depth, max(0.0, time.time() - row[0]) if row else 0.0)

    async def save_reply(self, message_id: str, reply_json: str) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO replies (message_id, reply) VALUES (?, ?)",
            (message_id, reply_json),
        )

    async def saved_reply(self, message_id: str) -> str | None:
        row = self.db.execute(
            "SELECT reply FROM replies WHERE message_id = ?", (message_id,)
        ).fetchone()
        return str(row[0]) if row else None

    async def mark_sent(self, message_id: str, part: str) -> None:
        self.db.execute(
            "INSERT OR IGNORE INTO sent (message_id, part) VALUES (?, ?)", (message_id, part)
        )

    async def sent_parts(self, message_id: str) -> set[str]:
        rows = self.db.execute("SELECT part FROM sent WHERE message_id = ?", (message_id,))
        return {str(row[0]) for row in rows.fetchall()}

    async def conversation(self, conversation_id: str) -> ConversationState:
        row = self.db.execute(
            "SELECT handoff_until, handoff_ref, phone_number_id, language, last_inbound_at"
            " FROM conversations WHERE conversation_id = ?",
            (conversation_id,),
        ).fetchone()
        if row is None:
            return ConversationState()
        return ConversationState(
            handoff_until=row[0],
            handoff_ref=row[1],
            phone_number_id=row[2],
            language=row[3],
            last_inbound_at=row[4],
        )

    async def save_conversation(self, conversation_id: str, state: ConversationState) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO conversations (conversation_id, phone_number_id,"
            " handoff_until, handoff_ref, language, last_inbound_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (
                conversation_id,
                state.phone_number_id,
                state.handoff_until,
                state.handoff_ref,
                state.language,
                state.last_inbound_at,
            ),
        )

    async def find_handoff(self, phone_number_id: str, ref: str) -> str | None:
        row = self.db.execute(
            "SELECT conversation_id FROM conversations WHERE phone_number_id = ?"
            " AND handoff_ref = ? AND handoff_until > ?",
            (phone_number_id, ref, time.time()),
        ).fetchone()
        return str(row[0]) if row else None

    async def record(self, name: str) -> str | None:
        row = self.db.execute(
            "SELECT value FROM records WHERE name = ? AND (expires_at IS NULL OR expires_at > ?)",
            (name, time.time()),
        ).fetchone()
        return str(row[0]) if row else None

    async def save_record(
        self, name: str, value: str, *, only_new: bool = False, ttl_seconds: float | None = None
    ) -> bool:
        expires = time.time() + ttl_seconds if ttl_seconds is not None else None
        if only_new:
            self.db.execute(
                "DELETE FROM records WHERE name = ? AND expires_at <= ?", (name, time.time())
            )
            verb = "INSERT OR IGNORE"
        else:
            verb = "INSERT OR REPLACE"
        cursor = self.db.execute(
            f"{verb} INTO records (name, value, expires_at) VALUES (?, ?, ?)",
            (name, value, expires),
        )
        return cursor.rowcount > 0

    async def conversation_entries(self, conversation_id: str) -> list[InboxEntry]:
        return sqlite_customers.entries(self.db, conversation_id)

    async def forget_conversation(self, conversation_id: str) -> int:
        with self._transaction() as db:
            deleted, pending = sqlite_customers.forget(db, conversation_id)
        self._depth -= pending
        return deleted

    async def records_named(self, prefix: str, value: str | None = None) -> dict[str, str]:
        return sqlite_customers.records_named(self.db, prefix, value, time.time())

    async def forget_records(self, prefix: str, value: str | None = None) -> int:
        with self._transaction() as db:
            return sqlite_customers.forget_records(db, prefix, value)

    async def forget_expired(self) -> int:
        with self._transaction() as db:
            return sqlite_customers.forget_expired(db, time.time(), self._dedupe_seconds)
