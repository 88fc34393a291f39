"""Durable inboxes: SQLite (one replica, the default) and Redis Streams (several)."""

from pathlib import Path

from router.inbox.base import ConversationState, Inbox, InboxStats, InboxUnavailableError
from router.inbox.sqlite import SqliteInbox
from router.settings import RouterSettings

__all__ = [
    "ConversationState",
    "Inbox",
    "InboxStats",
    "InboxUnavailableError",
    "SqliteInbox",
    "open_inbox",
]


def open_inbox(settings: RouterSettings) -> Inbox:
    """The backend `settings.inbox_url` names (not yet opened)."""
    url = settings.inbox_url
    dedupe = settings.dedupe_days * 86400
    if url.startswith("sqlite:///"):
        return SqliteInbox(Path(url.removeprefix("sqlite://")), dedupe_seconds=dedupe)
    from router.inbox.redis import RedisInbox

    return RedisInbox(url, lease_seconds=settings.lease_seconds, dedupe_seconds=dedupe)
