"""Reading the store for the API and the pages alike: a page of the list, a thread."""

from datetime import datetime

from console.conversations.schemas import ConversationPage, Thread
from katha.store import ConversationStore, StoredEvent

THREAD_LIMIT = 500


async def conversation_page(
    store: ConversationStore,
    tenant: str,
    *,
    with_person: bool | None = None,
    unanswered: bool | None = None,
    language: str | None = None,
    before: datetime | None = None,
    before_id: str | None = None,
    limit: int = 50,
) -> ConversationPage:
    """One page, and where the next begins (one more row is read to know there is one)."""
    rows = await store.conversations(
        tenant,
        with_person=with_person,
        unanswered=unanswered,
        language=language,
        before=before,
        before_id=before_id,
        limit=limit + 1,
    )
    page = ConversationPage(conversations=rows[:limit])
    if len(rows) > limit:
        last = rows[limit - 1]
        page.next_before, page.next_before_id = last.last_at, last.conversation_id
    return page


async def read_thread(store: ConversationStore, tenant: str, conversation_id: str) -> Thread | None:
    """The thread, or None when the tenant has no such conversation."""
    events = await store.thread(tenant, conversation_id, limit=THREAD_LIMIT)
    if not events:
        return None
    return Thread(
        tenant=tenant,
        conversation_id=conversation_id,
        with_person=with_person(events),
        events=events,
    )


def with_person(events: list[StoredEvent]) -> bool:
    """Whether the newest handoff event (oldest-first `events`) started one. A handoff older
    than the thread's window counts as none."""
    for event in reversed(events):
        if event.kind == "handoff_started":
            return True
        if event.kind == "handoff_released":
            return False
    return False
