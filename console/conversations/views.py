"""What the pages show, shaped from the store's rows: pure functions, tested without a
server. Labels are English message ids that the templates translate."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote, urlencode

from console.auth.principal import Principal, Role
from katha.store import ConversationSummary, MediaSummary, StoredEvent

# The languages the agent records (katha.lang.Language), as the list's filter offers them.
FILTER_LANGUAGES: dict[str, str] = {
    "si": "Sinhala",
    "ta": "Tamil",
    "en": "English",
    "singlish": "Singlish",
    "tanglish": "Tanglish",
    "mixed": "Mixed",
}
AUTHORS: dict[str, str] = {
    "customer": "Customer",
    "agent": "Agent",
    "person": "Person",
    "owner_app": "Owner (WhatsApp app)",
    "system": "System",
}
EVENTS: dict[str, str] = {
    "handoff_started": "A person took over",
    "handoff_released": "Given back to the agent",
    "template": "Template message",
}


@dataclass(frozen=True)
class BusinessLink:
    tenant: str
    href: str
    role: Role


@dataclass(frozen=True)
class ListFilters:
    with_person: bool = False
    unanswered: bool = False
    language: str | None = None

    def query(self, before: datetime | None = None, before_id: str | None = None) -> str:
        """The list's query string with these filters (and a page's start)."""
        values: dict[str, str] = {}
        if self.with_person:
            values["with_person"] = "true"
        if self.unanswered:
            values["unanswered"] = "true"
        if self.language:
            values["language"] = self.language
        if before is not None:
            values["before"] = before.isoformat()
        if before_id is not None:
            values["before_id"] = before_id
        return urlencode(values)


@dataclass(frozen=True)
class RowView:
    href: str
    conversation_id: str
    customer: str | None
    handle: str | None
    preview: str | None
    last_at: str
    language: str | None
    with_person: bool
    unanswered: bool


@dataclass(frozen=True)
class Source:
    uri: str
    linked: bool  # only web addresses become links; anything else is shown as text


# The WhatsApp message types that carry a file (router/media_types.py MEDIA_KINDS).
MEDIA_KINDS = frozenset({"audio", "image", "video", "document", "sticker"})
# The router records a customer's message as the event `in:<WhatsApp message id>`, and
# keeps its file under that message id (katha/store/media.py).
CUSTOMER_EVENT = "in:"


@dataclass(frozen=True)
class MediaView:
    """A customer's file in their bubble: the template plays a voice note, shows a photo
    or offers a document from `href`, the console's own media route. `href` None: the
    store keeps no file for the message (past retention, or it was never fetched)."""

    kind: str  # audio, image, video, document, sticker
    href: str | None
    filename: str | None = None


@dataclass(frozen=True)
class EventView:
    author: str
    author_label: str
    kind: str
    kind_label: str | None
    text: str | None
    at: str
    language: str | None
    intent: str | None
    sources: list[Source]
    reason: str | None
    media: MediaView | None = None


def business_links(principal: Principal) -> list[BusinessLink]:
    return [
        BusinessLink(tenant=tenant, href=f"/b/{tenant}", role=role)
        for tenant, role in sorted(principal.tenants.items())
    ]


def row_view(base: str, summary: ConversationSummary) -> RowView:
    return RowView(
        href=f"{base}/c/{summary.conversation_id}",
        conversation_id=summary.conversation_id,
        customer=summary.customer_name,
        handle=summary.customer_handle,
        preview=summary.last_text,
        last_at=summary.last_at.isoformat(),
        language=summary.language,
        with_person=summary.with_person,
        unanswered=summary.unanswered,
    )


def event_views(
    events: list[StoredEvent], media: Sequence[MediaSummary] = (), base: str = ""
) -> list[EventView]:
    """The thread's bubbles; `media` is the conversation's files (the store's
    `conversation_media`), each shown in the bubble of the message it came in, and `base`
    the Business's pages (`/b/namespace/name`) under which the media route lies."""
    files = {item.message_id: item for item in media}
    return [
        EventView(
            author=event.author,
            author_label=AUTHORS.get(event.author, event.author),
            kind=event.kind,
            kind_label=EVENTS.get(event.kind),
            text=event.text,
            at=event.at.isoformat(),
            language=event.language if event.author == "agent" else None,
            intent=event.intent if event.author == "agent" else None,
            sources=[Source(uri, uri.startswith(("https://", "http://"))) for uri in event.sources],
            reason=event.handoff_reason,
            media=media_view(event, files, base),
        )
        for event in events
    ]


def media_view(event: StoredEvent, files: dict[str, MediaSummary], base: str) -> MediaView | None:
    """What a customer's message carried, if it was a file: the kept file, or the word that
    it is no longer kept. Matched by message id, so a file is only ever shown in its own
    conversation's bubble (the store lists one conversation's files)."""
    kind = event.message_type
    if event.author != "customer" or kind is None or kind not in MEDIA_KINDS:
        return None
    message_id = event.event_id.removeprefix(CUSTOMER_EVENT)
    found = files.get(message_id) if event.event_id.startswith(CUSTOMER_EVENT) else None
    if found is None:
        return MediaView(kind=kind, href=None)
    href = f"{base}/media/{quote(found.media_id, safe='')}"
    return MediaView(kind=found.kind, href=href, filename=found.filename)


def thread_customer(events: list[StoredEvent]) -> str | None:
    """The newest name, else handle, that the thread knows for its customer."""
    for event in reversed(events):
        if event.customer_name or event.customer_handle:
            return event.customer_name or event.customer_handle
    return None


# Why the router did not send a person's reply (router/console_actions.py ReplyOutcome),
# in words an owner understands; any other reason reads "The reply was not sent."
REFUSALS: dict[str, str] = {
    "outside_window": "More than 24 hours since the customer last wrote: WhatsApp only lets "
    "the business write again when the customer does.",
    "unknown_customer": "Katha does not know this customer's WhatsApp number yet, so it "
    "cannot write to them.",
    "restricted": "WhatsApp has restricted this number for now.",
    "failed": "WhatsApp did not accept the message.",
    "reply_id_reused": "This reply was already sent with other words. Send the new words as "
    "a new reply.",
}
