"""The SQLite inbox's tables, and the query that finds each conversation's next message."""

SCHEMA = """
CREATE TABLE IF NOT EXISTS inbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id TEXT NOT NULL UNIQUE,
    tenant TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    body TEXT NOT NULL,
    received_at REAL NOT NULL,
    state TEXT NOT NULL DEFAULT 'open',  -- open | leased | done
    attempts INTEGER NOT NULL DEFAULT 0,
    available_at REAL NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS inbox_open ON inbox (conversation_id, seq) WHERE state != 'done';
CREATE INDEX IF NOT EXISTS inbox_pending ON inbox (seq) WHERE state != 'done';
CREATE INDEX IF NOT EXISTS inbox_done ON inbox (received_at) WHERE state = 'done';
CREATE TABLE IF NOT EXISTS replies (message_id TEXT PRIMARY KEY, reply TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sent (
    message_id TEXT NOT NULL, part TEXT NOT NULL, PRIMARY KEY (message_id, part)
);
CREATE TABLE IF NOT EXISTS conversations (
    conversation_id TEXT PRIMARY KEY,
    phone_number_id TEXT,
    handoff_until REAL,
    handoff_ref TEXT,
    language TEXT,
    last_inbound_at REAL
);
CREATE INDEX IF NOT EXISTS conversations_ref ON conversations (phone_number_id, handoff_ref);
CREATE TABLE IF NOT EXISTS settings (name TEXT PRIMARY KEY, value BLOB NOT NULL);
-- Small records: ids a customer is known by, opt-outs, account state (expires_at: NULL
-- for never).
CREATE TABLE IF NOT EXISTS records (name TEXT PRIMARY KEY, value TEXT NOT NULL, expires_at REAL);
-- Entries that could not be loaded, kept whole for a person to look at; their inbox row
-- stays as 'done' without its text, so Meta's redelivery is still a duplicate.
CREATE TABLE IF NOT EXISTS dead_letters (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    entry_seq INTEGER NOT NULL,
    message_id TEXT,
    tenant TEXT,
    reason TEXT NOT NULL,
    detail TEXT NOT NULL,
    size INTEGER NOT NULL,
    body BLOB NOT NULL,
    dead_at REAL NOT NULL
);
"""

# Ready messages, oldest first, that are the oldest unfinished message of their
# conversation (so nothing of it is in flight or waiting to be retried before them).
# "state != 'done'" is spelled out so SQLite uses the partial indexes: answered rows stay
# for dedupe and must not be scanned.
HEADS = """
SELECT i.seq, i.tenant, i.body, i.attempts FROM inbox i
WHERE i.state != 'done' AND i.state = 'open' AND i.available_at <= ? {exclude}
  AND NOT EXISTS (SELECT 1 FROM inbox j WHERE j.state != 'done'
                  AND j.conversation_id = i.conversation_id AND j.seq < i.seq)
ORDER BY i.seq LIMIT ?
"""
OLDEST = "SELECT received_at FROM inbox WHERE state != 'done' ORDER BY seq LIMIT 1"
DEPTH = "SELECT COUNT(*) FROM inbox WHERE state != 'done'"
