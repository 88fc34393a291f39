"""Outbound WhatsApp messages through the Graph API, `POST /{version}/{phone_number_id}/messages`,
paced by a TokenBucket per business number and per recipient, retried on throttling."""

import asyncio
import random
from dataclasses import dataclass
from typing import Any

import httpx

from katha.observability import get_logger
from router.envelope import Recipient
from router.limits import TokenBuckets

log = get_logger("router")

# Throttling and transient codes: 4 app rate, 80007 WABA rate, 130429 throughput,
# 131056 pair (business, customer) rate. Retried with backoff.
RETRYABLE_CODES = frozenset({4, 80007, 130429, 131056})
OUTSIDE_WINDOW = 131047  # more than 24 hours since the customer last wrote


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
        per_number: TokenBuckets,
        per_recipient: TokenBuckets,
        max_attempts: int = 5,
        backoff_seconds: float = 0.5,
        max_backoff_seconds: float = 30.0,
    ) -> None:
        self._client = client
        self._base = base_url.rstrip("/")
        self._per_number = per_number
        self._per_recipient = per_recipient
        self._attempts = max_attempts
        self._backoff = backoff_seconds
        self._max_backoff = max_backoff_seconds

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
                response = await self._client.post(url, json=body, headers=headers)
            except httpx.HTTPError as failure:
                error = GraphApiUnavailableError(None, 0, type(failure).__name__)
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


def _message_id(response: httpx.Response) -> str | None:
    try:
        messages = response.json().get("messages") or [{}]
        return str(messages[0].get("id")) if messages[0].get("id") else None
    except (ValueError, AttributeError, IndexError):
        return None


def _error(response: httpx.Response) -> GraphApiError:
    try:
        detail = response.json().get("error") or {}
    except (ValueError, AttributeError):
        detail = {}
    code = detail.get("code") if isinstance(detail.get("code"), int) else None
    message = str(detail.get("message") or response.reason_phrase)[:200]
    if code == OUTSIDE_WINDOW:
        return OutsideWindowError(code, response.status_code, message)
    if code in RETRYABLE_CODES or response.status_code == 429 or response.status_code >= 500:
        return GraphApiUnavailableError(code, response.status_code, message)
    return GraphApiError(code, response.status_code, message)
