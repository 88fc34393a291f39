"""The owner's list of questions the knowledge could not answer, kept on the tenant's volume.

SQLite beside the conversation memory, so every replica on the volume adds to one list
and `GET /v1/unanswered` shows it whichever replica answers. The text is kept as the
customer wrote it (the owner needs it to add the answer to the knowledge) and is never
logged. The list is bounded, and a question older than the retention period is deleted.

Questions the agent handed to a person are kept too (with the reason), and each row keeps
its conversation id, so one customer's questions can be exported and deleted with the
rest of their data; a file written before that column existed gains it when opened.
"""

import hashlib
import sqlite3
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from agent_runtime.clock import Clock, utc_now

# Questions kept per tenant, newest first; older ones make room.
UNANSWERED_KEPT = 500
# WhatsApp's own limit for a text message.
TEXT_CHARS = 4096

_SCHEMA = """
CREATE TABLE IF NOT EXISTS unanswered (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    language TEXT NOT NULL,
    text TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS unanswered_at ON unanswered (at);
"""
# Columns added since the first release, migrated in place (ALTER TABLE) when missing.
_ADDED_COLUMNS = {"conversation_id": "TEXT", "reason": "TEXT"}
_COLUMNS = "id, at, language, text, conversation_id, reason"
# SQLite's default limit on the parameters of one statement is 999; stay well below it.
_IDS_PER_STATEMENT = 500


@dataclass(frozen=True)
class Unanswered:
    at: datetime
    language: str
    text: str
    id: int = 0
    conversation_id: str | None = None  # None: recorded before conversations were kept
    # Why a person was asked ("low_confidence", "not_in_knowledge", "human", "complaint");
    # None: not handed over (nobody to hand to) or recorded before reasons were kept.
    reason: str | None = None


def text_hash(text: str) -> str:
    """16 hex digits of the text's SHA-256: names a question without carrying its words."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class QuestionKey:
    """One kept question as the owner's page saw it: its id, when it was asked and its
    text's hash (`text_hash`), which together name it on one replica's list only."""

    id: int
    at: datetime
    hash: str

    @classmethod
    def of(cls, question: Unanswered) -> "QuestionKey":
        return cls(question.id, question.at, text_hash(question.text))

    def matches(self, at: datetime, text: str) -> bool:
        return self.at == at and self.hash == text_hash(text)


@dataclass(frozen=True)
class UnansweredReport:
    questions: list[Unanswered]  # oldest first, the newest `limit`
    total: int
    by_language: dict[str, int]


class UnansweredQuestions:
    def __init__(
        self,
        path: Path,
        retention: timedelta,
        *,
        kept: int = UNANSWERED_KEPT,
        clock: Clock = utc_now,
    ) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.retention, self.kept, self._clock = retention, kept, clock
        self._lock = threading.Lock()
        # Replicas share the file: WAL lets readers run beside a writer, and a writer
        # waits for another replica's write instead of failing.
        self._db = sqlite3.connect(path, timeout=5.0, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute("PRAGMA synchronous = NORMAL")  # a power cut may lose the latest
        self._db.executescript(_SCHEMA)
        with self._lock, self._db:
            self._migrate()

    def _migrate(self) -> None:
        """Add the columns a file from an older release lacks; its rows keep NULL there."""
        present = {row[1] for row in self._db.execute("PRAGMA table_info(unanswered)")}
        for column, kind in _ADDED_COLUMNS.items():
            if column not in present:
                try:
                    self._db.execute(f"ALTER TABLE unanswered ADD COLUMN {column} {kind}")
                except sqlite3.OperationalError as error:  # another replica added it first
                    if "duplicate column" not in str(error):
                        raise
        self._db.execute(
            "CREATE INDEX IF NOT EXISTS unanswered_conversation ON unanswered (conversation_id)"
        )

    def add(
        self,
        language: str,
        text: str,
        *,
        conversation_id: str | None = None,
        reason: str | None = None,
    ) -> None:
        now = self._clock().astimezone(UTC)
        with self._lock, self._db:
            self._db.execute(
                "INSERT INTO unanswered (at, language, text, conversation_id, reason) "
                "VALUES (?, ?, ?, ?, ?)",
                (now.isoformat(), language, text[:TEXT_CHARS], conversation_id, reason),
            )
            self._forget(now)

    def report(self, limit: int = 100) -> UnansweredReport:
        with self._lock, self._db:
            self._forget(self._clock().astimezone(UTC))
            rows = self._db.execute(
                f"SELECT {_COLUMNS} FROM unanswered ORDER BY id DESC LIMIT ?",  # noqa: S608 - our columns
                (limit,),
            ).fetchall()
            counts = self._db.execute(
                "SELECT language, COUNT(*) FROM unanswered GROUP BY language ORDER BY language"
            ).fetchall()
        questions = [_row(row) for row in reversed(rows)]
        by_language: dict[str, int] = dict(counts)
        return UnansweredReport(questions, sum(by_language.values()), by_language)

    def all(self) -> list[Unanswered]:
        """Every question kept, oldest first (at most `kept`): what the owner groups."""
        with self._lock, self._db:
            self._forget(self._clock().astimezone(UTC))
            rows = self._db.execute(
                f"SELECT {_COLUMNS} FROM unanswered ORDER BY id"  # noqa: S608 - our columns
            ).fetchall()
        return [_row(row) for row in rows]

    def export_conversation(self, conversation_id: str) -> list[Unanswered]:
        """One conversation's questions, oldest first (a customer's data export)."""
        with self._lock, self._db:
            rows = self._db.execute(
                f"SELECT {_COLUMNS} FROM unanswered WHERE conversation_id = ? ORDER BY id",  # noqa: S608 - our columns
                (conversation_id,),
            ).fetchall()
        return [_row(row) for row in rows]

    def forget_conversation(self, conversation_id: str) -> int:
        """Delete one conversation's questions (a customer asked to be forgotten); how many."""
        with self._lock, self._db:
            deleted = self._db.execute(
                "DELETE FROM unanswered WHERE conversation_id = ?", (conversation_id,)
            ).rowcount
        return int(deleted)

    def resolve(self, questions: list[QuestionKey]) -> int:
        """Delete these questions (the owner answered them); how many were still there.

        A question is named by its id, its time and its text's hash, and a row goes only
        when all three match: replicas may each keep their own list (state per replica
        on object storage, or one volume per node), where the same id is another question,
        and the owner's answer must never delete a question it did not answer."""
        wanted = {key.id: key for key in questions}
        numbers = sorted(wanted)
        deleted = 0
        with self._lock, self._db:
            for start in range(0, len(numbers), _IDS_PER_STATEMENT):
                chunk = numbers[start : start + _IDS_PER_STATEMENT]
                marks = ", ".join("?" * len(chunk))
                rows = self._db.execute(
                    f"SELECT id, at, text FROM unanswered WHERE id IN ({marks})",  # noqa: S608 - only placeholders
                    chunk,
                ).fetchall()
                matching = [
                    (number,)
                    for number, at, text in rows
                    if wanted[number].matches(datetime.fromisoformat(at), text)
                ]
                before = self._db.total_changes
                self._db.executemany("DELETE FROM unanswered WHERE id = ?", matching)
                deleted += self._db.total_changes - before
        return deleted

    def close(self) -> None:
        self._db.close()

    def _forget(self, now: datetime) -> None:
        """Past the retention period, or beyond the newest `kept`: deleted."""
        self._db.execute(
            "DELETE FROM unanswered WHERE at < ?", ((now - self.retention).isoformat(),)
        )
        self._db.execute(
            "DELETE FROM unanswered WHERE id <= "
            "(SELECT id FROM unanswered ORDER BY id DESC LIMIT 1 OFFSET ?)",
            (self.kept,),
        )


def _row(row: tuple[int, str, str, str, str | None, str | None]) -> Unanswered:
    number, at, language, text, conversation_id, reason = row
    return Unanswered(datetime.fromisoformat(at), language, text, number, conversation_id, reason)
