"""Outbound WhatsApp messages through the Graph API, `POST /{version}/{phone_number_id}/messages`,
paced by a TokenBucket per business number and per recipient, retried on throttling; and
customers' media fetched in (`GET /{version}/{media-id}`, then its short-lived URL)."""

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from katha.observability import get_logger
from router.envelope import Recipient
from router.http import JsonPoster, Posted, PostFailedError, json_body
from router.limits import TokenBuckets, Turns

log = get_logger("router")

# Throttling and transient codes: 4 app rate, 80007 WABA rate, 130429 throughput,
# 131056 pair (business, customer) rate. Retried with backoff.
RETRYABLE_CODES = frozenset({4, 80007, 130429, 131056})
OUTSIDE_WINDOW = 131047  # more than 24 hours since the customer last wrote
# Where Meta serves media bytes (lookaside.fbsbx.com today; its CDNs before): the only
# hosts, over https on the default port, that the tenant's token is sent to for a download.
MEDIA_HOSTS = ("fbsbx.com", "facebook.com", "whatsapp.net", "fbcdn.net")


class GraphApiError(RuntimeError):
    """Graph API refused a message for good (bad token, bad recipient, ...)."""

    def __init__(self, code: int | None, status: int, message: str) -> None:
        super().__init__(f"Graph API error {code} (HTTP {status}): {message}")
        self.code = code
        self.status = status


class OutsideWindowError(GraphApiError):
    """Only templates may be sent more than 24 hours after the customer's last message."""


class GraphApiUnavailableError(GraphApiError):
    """Still throttled or failing after every retry; the message should be tried later."""


class MediaRefusedError(Exception):
    """The router will not take this media (too large, a type it does not allow): trying
    again would get the same answer. `reason` is a `Media.unavailable` value."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class MediaInfo:
    """What `GET /{media-id}` says: where the bytes are for about five minutes (the URL
    carries credentials in its query: never logged), their type, size and SHA-256."""

    url: str
    mime_type: str | None
    sha256: str | None
    file_size: int | None


@dataclass(frozen=True, slots=True)
class GraphApiResult:
    message_id: str | None
    attempts: int


class GraphApiClient:
    def __init__(
        self,
        client: httpx.AsyncClient,
        base_url: str,
        *,
        poster: JsonPoster,
        per_number: TokenBuckets,
        per_recipient: TokenBuckets,
        max_attempts: int = 5,
        backoff_seconds: float = 0.5,
        max_backoff_seconds: float = 30.0,
    ) -> None:
        self._client = client  # media metadata and downloads
        self._poster = poster  # messages and read receipts: one or two per customer message
        self._base = base_url.rstrip("/")
        self._per_number = per_number
        self._per_recipient = per_recipient
        self._turns = Turns()
        self._attempts = max_attempts
        self._backoff = backoff_seconds
        self._max_backoff = max_backoff_seconds

    def received(self, phone_number_id: str, count: int) -> None:
        """`count` messages arrived at a business number. Meta's throughput per number
        (80 messages a second by default) counts what it receives with what it sends, so
        they use the number's pace as sends do: the sends after them wait their turn. At
        most a second's worth is owed, so arrivals alone hold the number's sends back by
        about a second at most. Each router process paces with buckets of its own: with
        several replicas (a Redis inbox) each counts what it received and what it sends."""
        bucket = self._per_number[phone_number_id]
        bucket.spend(count, most_owed=bucket.rate)

    async def send_text(
        self,
        phone_number_id: str,
        token: str,
        recipient: Recipient,
        text: str,
        reply_to: str | None = None,
        tracking: str | None = None,
    ) -> GraphApiResult:
        body: dict[str, Any] = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            **recipient.graph_fields(),
            "type": "text",
            "text": {"body": text, "preview_url": False},
        }
        if reply_to:
            body["context"] = {"message_id": reply_to}
        if tracking:
            # Echoed back in this message's status webhooks (sent, delivered, read).
            body["biz_opaque_callback_data"] = tracking
        pair = f"{phone_number_id}:{recipient.wa_id or recipient.user_id}"
        return await self._post(phone_number_id, token, body, pair)

    def pair_turn(self, phone_number_id: str, recipient: Recipient, message_id: str) -> float:
        """Seconds until the message `message_id` may send to `recipient` from this number
        (Meta's pair rate paces one business-to-user pair); 0 when it may go now. Messages
        that wait in the inbox for it are given turns in order, kept when they ask again."""
        pair = f"{phone_number_id}:{recipient.wa_id or recipient.user_id}"
        return self._turns.wait(pair, message_id, self._per_recipient[pair])

    async def send_template(
        self,
        phone_number_id: str,
        token: str,
        recipient: Recipient,
        name: str,
        language: str,
        parameters: list[str],
        copy_code: str | None = None,
    ) -> GraphApiResult:
        """An approved template: what may go to someone whose 24-hour window is closed.
        `parameters` fill the body's {{1}}, {{2}} ... in order. `copy_code`: an
        AUTHENTICATION template's one-time code, which Meta also wants as the parameter of
        its copy-code button (button 0, sub_type url)."""
        body: dict[str, Any] = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            **recipient.graph_fields(),
            "type": "template",
            "template": {
                "name": name,
                "language": {"code": language},
                "components": [
                    {
                        "type": "body",
                        "parameters": [{"type": "text", "text": text} for text in parameters],
                    }
                ],
            },
        }
        if copy_code is not None:
            body["template"]["components"].append(
                {
                    "type": "button",
                    "sub_type": "url",
                    "index": "0",
                    "parameters": [{"type": "text", "text": copy_code}],
                }
            )
        pair = f"{phone_number_id}:{recipient.wa_id or recipient.user_id}"
        return await self._post(phone_number_id, token, body, pair)

    async def mark_read(self, phone_number_id: str, token: str, message_id: str) -> None:
        """Blue ticks and the typing indicator (it shows for up to 25 s or until we answer)."""
        body = {
            "messaging_product": "whatsapp",
            "status": "read",
            "message_id": message_id,
            "typing_indicator": {"type": "text"},
        }
        # One try: a missing blue tick must not delay the answer.
        await self._post(phone_number_id, token, body, None, attempts=1)

    async def fetch_media(
        self, media_id: str, token: str, admit: Callable[[MediaInfo], Awaitable[int]]
    ) -> tuple[MediaInfo, bytes]:
        """The media's metadata and bytes. `admit` returns how many bytes may come, or raises
        MediaRefusedError; the download stops as soon as more arrive (MediaRefusedError
        "too_large"). A download URL off Meta's hosts is refused before any request
        ("download_failed"): the token must never go anywhere else. Throttling, 5xx and
        network failures are retried with back-off, each time from the metadata (its URL is
        short-lived), then raised as GraphApiUnavailableError; a refusal is raised at once."""
        error: GraphApiError | None = None
        for attempt in range(1, self._attempts + 1):
            try:
                info = await self._media_info(media_id, token)
                if not self.may_download(info.url):
                    raise MediaRefusedError("download_failed", "download URL off Meta's hosts")
                return info, await self._download(info.url, token, await admit(info))
            except GraphApiUnavailableError as failure:
                error = failure
            if attempt < self._attempts:
                delay = min(self._max_backoff, self._backoff * 2 ** (attempt - 1))
                delay *= 0.5 + random.random()  # noqa: S311 - jitter, not security
                log.warning("media.retry", code=error.code, status=error.status, attempt=attempt)
                await asyncio.sleep(delay)
        raise error or GraphApiUnavailableError(None, 0, "no attempt was made")

    def may_download(self, url: str) -> bool:
        """Whether the tenant's token may be sent to `url`: https on the default port to one
        of Meta's media hosts, or exactly the configured Graph API's own scheme, host and
        port (a loopback stand-in for Meta serves both from one place). Parsed as httpx
        will request it, so no spelling of a URL can mean one host here and another there."""
        try:
            target = httpx.URL(url)
        except (httpx.InvalidURL, TypeError, ValueError):
            return False
        if target.userinfo:
            return False
        base = httpx.URL(self._base)
        if (target.scheme, target.host, target.port) == (base.scheme, base.host, base.port):
            return True
        host = target.host.lower()
        on_meta = any(host == domain or host.endswith("." + domain) for domain in MEDIA_HOSTS)
        return target.scheme == "https" and target.port in (None, 443) and on_meta

    async def _media_info(self, media_id: str, token: str) -> MediaInfo:
        url = f"{self._base}/{quote(media_id, safe='')}"
        try:
            response = await self._client.get(url, headers={"Authorization": f"Bearer {token}"})
        except httpx.HTTPError as failure:
            raise GraphApiUnavailableError(None, 0, type(failure).__name__) from failure
        if not response.is_success:
            raise _error(_posted(response))
        try:
            document = response.json()
            size = document.get("file_size")
            return MediaInfo(
                url=str(document["url"]),
                mime_type=_text(document.get("mime_type")),
                sha256=_text(document.get("sha256")),
                file_size=int(size) if size is not None else None,
            )
        except (ValueError, KeyError, TypeError, AttributeError) as failure:
            raise GraphApiError(None, response.status_code, "unreadable metadata") from failure

    async def _download(self, url: str, token: str, limit: int) -> bytes:
        headers = {"Authorization": f"Bearer {token}"}
        try:
            async with self._client.stream("GET", url, headers=headers) as response:
                if not response.is_success:
                    await response.aread()
                    raise _error(_posted(response))
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > limit:
                    raise MediaRefusedError("too_large", f"{declared} bytes declared")
                received = bytearray()
                async for chunk in response.aiter_bytes():
                    received += chunk
                    if len(received) > limit:  # stop reading: the rest never arrives here
                        raise MediaRefusedError("too_large", f"over {limit} bytes sent")
                return bytes(received)
        except httpx.HTTPError as failure:
            raise GraphApiUnavailableError(None, 0, type(failure).__name__) from failure

    async def _post(
        self,
        phone_number_id: str,
        token: str,
        body: dict[str, Any],
        pair: str | None,
        attempts: int | None = None,
    ) -> GraphApiResult:
        url = f"{self._base}/{phone_number_id}/messages"
        headers = {"Authorization": f"Bearer {token}"}
        error: GraphApiError | None = None
        tries = attempts or self._attempts
        for attempt in range(1, tries + 1):
            if pair is not None:
                await self._per_recipient[pair].take()
            await self._per_number[phone_number_id].take()
            try:
                response = await self._poster.post(url, json_body(body), headers)
            except PostFailedError as failure:
                error = GraphApiUnavailableError(None, 0, str(failure))
            else:
                if response.is_success:
                    return GraphApiResult(_message_id(response), attempt)
                error = _error(response)
                if not isinstance(error, GraphApiUnavailableError):
                    raise error
            if attempt == tries:
                break
            delay = min(self._max_backoff, self._backoff * 2 ** (attempt - 1))
            delay *= 0.5 + random.random()  # noqa: S311 - jitter, not security
            log.warning("graph.retry", code=error.code, status=error.status, attempt=attempt)
            await asyncio.sleep(delay)
        raise error or GraphApiUnavailableError(None, 0, "no attempt was made")


def _message_id(response: Posted) -> str | None:
    try:
        messages = response.json().get("messages") or [{}]
        return str(messages[0].get("id")) if messages[0].get("id") else None
    except (ValueError, AttributeError, IndexError):
        return None


def _text(value: Any) -> str | None:
    return str(value) if isinstance(value, str | int) and str(value) else None


def _posted(response: httpx.Response) -> Posted:
    """An httpx answer (media requests) in the shape the errors are read from."""
    return Posted(response.status_code, response.reason_phrase, response.content)


def _error(response: Posted) -> GraphApiError:
    try:
        detail = response.json().get("error") or {}
    except (ValueError, AttributeError):
        detail = {}
    code = detail.get("code") if isinstance(detail.get("code"), int) else None
    message = str(detail.get("message") or response.reason)[:200]
    if code == OUTSIDE_WINDOW:
        return OutsideWindowError(code, response.status, message)
    if code in RETRYABLE_CODES or response.status == 429 or response.status >= 500:
        return GraphApiUnavailableError(code, response.status, message)
    return GraphApiError(code, response.status, message)
