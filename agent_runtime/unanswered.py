"""The owner's list of questions the knowledge could not answer, kept on the tenant's volume.

SQLite beside the conversation memory, so every replica on the volume adds to one list
and `GET /v1/unanswered` shows it whichever replica answers. The text is kept as the
customer wrote it (the owner needs it to add the answer to the knowledge) and is never
logged. The list is bounded, and a question older than the retention period is deleted.
"""

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


@dataclass(frozen=True)
class Unanswered:
    at: datetime
    language: str
    text: str


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
        self._db.executescript(_SCHEMA)

    def add(self, language: str, text: str) -> None:
        now = self._clock().astimezone(UTC)
        with self._lock, self._db:
            self._db.execute(
                "INSERT INTO unanswered (at, language, text) VALUES (?, ?, ?)",
                (now.isoformat(), language, text[:TEXT_CHARS]),
            )
            self._forget(now)

    def report(self, limit: int = 100) -> UnansweredReport:
        with self._lock, self._db:
            self._forget(self._clock().astimezone(UTC))
            rows = self._db.execute(
                "SELECT at, language, text FROM unanswered ORDER BY id DESC LIMIT ?",
                (limit,),
            ).fetchall()
            counts = self._db.execute(
                "SELECT language, COUNT(*) FROM unanswered GROUP BY language ORDER BY language"
            ).fetchall()
        questions = [
            Unanswered(datetime.fromisoformat(at), language, text)
            for at, language, text in reversed(rows)
        ]
        by_language: dict[str, int] = dict(counts)
        return UnansweredReport(questions, sum(by_language.values()), by_language)

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
