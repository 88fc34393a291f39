"""A customer's voice note, photo or document, fetched for the agent: the router asks the
Graph API with the tenant's token (which the agent never holds), checks type, size and
SHA-256, keeps the file beside the conversation for the owner console, and hands the bytes
over in `Media.content`; or says in `Media.unavailable` why not, and the agent still gets
the message (it answers politely).

Done once per message: what was decided is an inbox record, and the bytes are read back
from the conversation store when a retry needs them. Neither the token nor the download
URL (it carries credentials in its query) nor the bytes are ever logged.
"""

import asyncio
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime

from katha.contracts.messages import InboundMessage, Media, MessageType
from katha.contracts.routing import Route
from katha.observability import get_logger
from katha.store import ConversationStore, StoredMedia
from router.envelope import Envelope
from router.graph_api import (
    GraphApiClient,
    GraphApiError,
    GraphApiUnavailableError,
    MediaInfo,
    MediaRefusedError,
)
from router.history import History
from router.inbox.base import Inbox
from router.media_quota import DailyMediaCount, daily_count
from router.media_types import (
    COSTLY_KINDS,
    MEDIA_KINDS,
    allowed,
    essence,
    limit_bytes,
    sha256_matches,
)
from router.metrics import RouterMetrics
from router.retry import RetryLaterError
from router.settings import RouterSettings

log = get_logger("router")

RECORD = "media:"  # + message id: what was decided about its media
KEEP_SECONDS = 5.0  # a slow store delays the answer this long at most, then is skipped


def store_of(history: History | None) -> ConversationStore | None:
    """The conversation store the history writes to (None without one)."""
    return history.store if history is not None else None


@dataclass(frozen=True, slots=True)
class Outcome:
    """What was decided about one message's media, kept as an inbox record."""

    unavailable: str | None = None
    mime_type: str | None = None
    size: int | None = None

    def encode(self) -> str:
        return json.dumps({"u": self.unavailable, "m": self.mime_type, "s": self.size})

    @classmethod
    def decode(cls, text: str) -> "Outcome | None":
        try:
            document = json.loads(text)
            return cls(document.get("u"), document.get("m"), document.get("s"))
        except (ValueError, AttributeError):
            return None


class MediaFetcher:
    def __init__(
        self,
        settings: RouterSettings,
        inbox: Inbox,
        graph: GraphApiClient,
        metrics: RouterMetrics,
        history: History | None,
    ) -> None:
        self._settings = settings
        self._inbox = inbox
        self._graph = graph
        self._metrics = metrics
        self._history = history
        self._count = daily_count(inbox)

    async def for_agent(
        self, route: Route, envelope: Envelope, language: str | None
    ) -> InboundMessage:
        """The message as the agent is sent it: with the conversation's language so far,
        and its media's bytes or why they are absent."""
        message = envelope.message.model_copy(update={"previous_language": language})
        media = message.media
        if media is None or message.type not in MEDIA_KINDS or media.content is not None:
            return message
        saved = await self._inbox.record(RECORD + message.message_id)
        outcome = Outcome.decode(saved) if saved else None
        if outcome is not None and outcome.unavailable is not None:
            return _with(message, media, unavailable=outcome.unavailable)
        if outcome is not None:
            kept = await self._kept(route.tenant, media.id)
            if kept is not None:
                self._count_outcome(route, message.type, "reused")
                mime_type = media.mime_type or kept.mime_type
                return _with(
                    message, media, content=kept.content, size=kept.size, mime_type=mime_type
                )
        fetched = await self._fetch(route, envelope, message.type, media)
        if isinstance(fetched, str):
            outcome = Outcome(unavailable=fetched)
            await self._remember(message.message_id, outcome)
            return _with(message, media, unavailable=fetched)
        info, content = fetched
        mime_type = essence(info.mime_type or media.mime_type)
        await self._keep(route, envelope, message.type, media, mime_type, content)
        await self._remember(message.message_id, Outcome(None, mime_type, len(content)))
        return _with(
            message,
            media,
            content=content,
            size=len(content),
            mime_type=media.mime_type or mime_type,
        )

    async def _fetch(
        self, route: Route, envelope: Envelope, kind: MessageType, media: Media
    ) -> tuple[MediaInfo, bytes] | str:
        """The metadata and bytes, or the `unavailable` reason (counted and logged). While
        the Graph API cannot serve them, RetryLaterError: nothing is saved, and the message
        comes back later, until its last try (`media_fetch_attempts`)."""
        if media.mime_type and not allowed(kind, media.mime_type):
            return self._refused(route, kind, "type_not_allowed")
        admission = _Admission(
            self._count,
            route.tenant,
            envelope.message_id,
            kind,
            media.mime_type,
            limit_bytes(self._settings, kind),
            self._cap(route, kind),
        )
        token = route.credentials.access_token.get_secret_value()
        try:
            async with asyncio.timeout(self._settings.media_fetch_seconds):
                info, content = await self._graph.fetch_media(media.id, token, admission.admit)
            if not sha256_matches(info.sha256 or media.sha256, content):
                log.warning("media.hash_mismatch", type=kind.value)
                raise MediaRefusedError("download_failed", "hash mismatch")
        except MediaRefusedError as refusal:
            await admission.release()
            return self._refused(route, kind, refusal.reason)
        except (GraphApiUnavailableError, TimeoutError) as failure:
            return await self._later(route, envelope, kind, failure, admission)
        except GraphApiError as error:  # refused for good: a 4xx, unreadable metadata
            log.warning("media.download_failed", code=error.code, status=error.status)
            await admission.release()
            return self._refused(route, kind, "download_failed")
        self._count_outcome(route, kind, "fetched")
        self._metrics.media_bytes.labels(route.tenant, kind.value).inc(len(content))
        log.info("media.fetched", type=kind.value, size=len(content))
        return info, content

    async def _later(
        self,
        route: Route,
        envelope: Envelope,
        kind: MessageType,
        failure: Exception,
        admission: "_Admission",
    ) -> str:
        """A Graph API outage (or a download past its deadline) is not the customer's doing:
        the message is tried again later rather than answered without its media, keeping
        its place under the daily cap; after its last try, `download_failed`."""
        code = failure.code if isinstance(failure, GraphApiError) else None
        status = failure.status if isinstance(failure, GraphApiError) else None
        attempt = envelope.attempts + 1
        log.warning("media.unavailable_now", code=code, status=status, attempt=attempt)
        if attempt >= self._settings.media_fetch_attempts:
            await admission.release()
            return self._refused(route, kind, "download_failed")
        self._count_outcome(route, kind, "retry_later")
        base = self._settings.retry_base_seconds * 2 ** min(envelope.attempts, 20)
        delay = min(self._settings.retry_max_seconds, base)
        raise RetryLaterError(delay, "media unavailable") from failure

    def _cap(self, route: Route, kind: MessageType) -> int | None:
        """The Business's daily cap for this type of media (the route's, else the router's
        default); None for a type that costs no GPU, which is not capped."""
        if kind not in COSTLY_KINDS:
            return None
        return route.media_daily_limits.get(kind.value, self._settings.media_daily_cap)

    def _refused(self, route: Route, kind: MessageType, reason: str) -> str:
        self._count_outcome(route, kind, reason)
        log.info("media.unavailable", type=kind.value, reason=reason)
        return reason

    def _count_outcome(self, route: Route, kind: MessageType, outcome: str) -> None:
        self._metrics.media.labels(route.tenant, kind.value, outcome).inc()

    async def _remember(self, message_id: str, outcome: Outcome) -> None:
        ttl = self._settings.dedupe_days * 86400
        await self._inbox.save_record(RECORD + message_id, outcome.encode(), ttl_seconds=ttl)

    async def _kept(self, tenant: str, media_id: str) -> StoredMedia | None:
        store = store_of(self._history)
        if store is None:
            return None
        try:
            async with asyncio.timeout(KEEP_SECONDS):
                return await store.media(tenant, media_id)
        except Exception as error:  # the store is down: fetch again instead
            log.warning("media.read_failed", reason=type(error).__name__)
            return None

    async def _keep(
        self,
        route: Route,
        envelope: Envelope,
        kind: MessageType,
        media: Media,
        mime_type: str,
        content: bytes,
    ) -> None:
        """Keep the file for the owner console; a store that is down costs the console its
        copy, never the customer their answer."""
        store = store_of(self._history)
        if store is None:
            return
        try:
            item = StoredMedia(
                tenant=route.tenant,
                media_id=media.id,
                conversation_id=envelope.conversation_id,
                message_id=envelope.message_id,
                at=datetime.fromtimestamp(envelope.received_at, UTC),
                kind=kind.value,
                mime_type=mime_type,
                filename=(media.filename or "")[:256] or None,
                size=len(content),
                sha256=hashlib.sha256(content).hexdigest(),
                content=content,
            )
            async with asyncio.timeout(KEEP_SECONDS):
                await store.keep_media(item)
        except Exception as error:  # down, slow, or a field the store refuses
            log.warning("media.keep_failed", reason=type(error).__name__)


class _Admission:
    """The checks on Meta's metadata before any byte is downloaded: type, declared size,
    then, for GPU-costly media (`cap` not None), a place under the daily cap. The place is
    taken only once the rest pass, and given back if the download then fails for good, so
    refused or failed media never use up a Business's day."""

    def __init__(
        self,
        count: DailyMediaCount,
        tenant: str,
        message_id: str,
        kind: MessageType,
        mime_type: str | None,
        limit: int,
        cap: int | None,
    ) -> None:
        self._count = count
        self._scope = (tenant, kind.value, message_id)
        self._kind = kind
        self._mime_type = mime_type  # what the webhook said, if Meta's metadata says nothing
        self._limit = limit
        self._cap = cap
        self._day: date | None = None  # the UTC day whose place this message holds

    async def admit(self, info: MediaInfo) -> int:
        """How many bytes may come, or MediaRefusedError."""
        if not allowed(self._kind, info.mime_type or self._mime_type):
            raise MediaRefusedError("type_not_allowed")
        if info.file_size is not None and info.file_size > self._limit:
            raise MediaRefusedError("too_large", "declared")
        if self._cap is not None and self._day is None:
            day = _today()
            if not await self._count.take(*self._scope, self._cap, day):
                raise MediaRefusedError("daily_limit")
            self._day = day
        return self._limit

    async def release(self) -> None:
        """Give the place back: the download failed for good."""
        if self._day is None:
            return
        day, self._day = self._day, None
        try:
            await self._count.release(*self._scope, day)
        except Exception as error:  # the inbox is down: the place stays used, no more
            log.warning("media.release_failed", reason=type(error).__name__)


def _today() -> date:
    """The cap's day: a UTC day, the same on every replica whatever its time zone."""
    return datetime.now(UTC).date()


def _with(message: InboundMessage, media: Media, **fields: object) -> InboundMessage:
    return message.model_copy(update={"media": media.model_copy(update=fields)})
