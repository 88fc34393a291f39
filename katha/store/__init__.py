"""The conversation store: every message, reply and handoff of every tenant's customers.

The router writes `StoreEvent`s with `ConversationStore.record`; the owner console reads
`ConversationSummary`s and threads of `StoredEvent`s. The schema is Alembic's: run
`upgrade(url)` (or `python -m katha.store upgrade`) before the store is used.
"""

from katha.store.console_tables import ConsoleTables
from katha.store.events import Author, ConversationSummary, Kind, StoredEvent, StoreEvent
from katha.store.media import MediaSummary, StoredMedia
from katha.store.migrate import current_revision, upgrade
from katha.store.store import ConversationStore
from katha.store.urls import URL_ENV, StoreUrlError

__all__ = [
    "URL_ENV",
    "Author",
    "ConsoleTables",
    "ConversationStore",
    "ConversationSummary",
    "Kind",
    "MediaSummary",
    "StoreEvent",
    "StoreUrlError",
    "StoredEvent",
    "StoredMedia",
    "current_revision",
    "upgrade",
]
