"""Webhook notifications in: verify the signature, parse, route, and store durably.

Returns the HTTP status to answer with. Used by the `/webhooks/whatsapp` endpoint and by
`WebhookFastPath`, the raw-ASGI path that serves the same POST without FastAPI's
per-request machinery (Meta can send a busy number 1,000 notifications a second).
"""

import hmac
import json
import time

from katha.messages import InboundMessage
from katha.observability import get_logger
from router.envelope import Envelope, Recipient, conversation_id
from router.inbox.base import InboxUnavailableError
from router.notification import IncomingMessage, Notification
from router.payload import parse_notification
from router.services import Services
from router.signature import verify_signature

log = get_logger("router")

OK, UNAUTHORIZED, TOO_LARGE, UNAVAILABLE = 200, 401, 413, 503


async def receive(services: Services, body: bytes | None, signature: str | None) -> int:
    metrics = services.metrics.webhooks
    if body is None:
        metrics.labels("too_large").inc()
        log.warning("webhook.too_large")
        return TOO_LARGE
    app_secret = verify_signature(body, signature, services.routes.app_secrets)
    if app_secret is None:
        metrics.labels("bad_signature").inc()
        log.warning("webhook.bad_signature", signed=signature is not None)
        return UNAUTHORIZED
    try:
        payload = json.loads(body)
    except ValueError:
        # Signed by Meta but unreadable: a retry would be just as unreadable.
        metrics.labels("unreadable").inc()
        log.error("webhook.unreadable", size=len(body))
        return OK
    notification = parse_notification(payload)
    try:
        await _accept(services, notification, app_secret)
    except InboxUnavailableError:
        # No 200: Meta keeps the message and retries; nothing is lost.
        metrics.labels("inbox_unavailable").inc()
        log.exception("webhook.inbox_unavailable")
        return UNAVAILABLE
    _report(services, notification)
    metrics.labels("accepted").inc()
    return OK


async def _accept(services: Services, notification: Notification, app_secret: bytes) -> None:
    envelopes: list[Envelope] = []
    now = time.time()
    for message in notification.messages:
        route = services.routes.route_for(message.phone_number_id)
        number, message_id = message.phone_number_id, message.message_id
        if route is None:
            log.warning("route.unknown", phone_number_id=number, message_id=message_id)
            continue
        secret = route.credentials.app_secret.get_secret_value().encode()
        if not hmac.compare_digest(secret, app_secret):
            # Another tenant's Meta app signed this: it must not speak for this number.
            log.error("message.wrong_app", phone_number_id=number, message_id=message_id)
            continue
        if route.suspended:
            log.info("message.suspended", tenant=route.tenant, message_id=message_id)
            continue
        envelopes.append(_envelope(services.conversation_key, route.tenant, message, now))
    if not envelopes:
        return
    fresh = await services.inbox.accept(envelopes)
    for envelope, new in zip(envelopes, fresh, strict=True):
        log.info(
            "message.accepted" if new else "message.duplicate",
            tenant=envelope.tenant,
            conversation_id=envelope.conversation_id,
            message_id=envelope.message_id,
        )
    if any(fresh):
        services.wake_workers()


def _envelope(key: bytes, tenant: str, message: IncomingMessage, now: float) -> Envelope:
    inbound = InboundMessage(
        message_id=message.message_id,
        tenant=tenant,
        conversation_id=conversation_id(key, message.phone_number_id, message.sender.key),
        type=message.type,
        timestamp=message.timestamp,
        text=message.text,
        sender_name=message.sender.name,
        media=message.media,
        location=message.location,
        choice=message.choice,
        reaction=message.reaction,
        reply_to=message.reply_to,
    )
    if message.extra:  # unknown fields travel on under "whatsapp" (the contract allows extras)
        inbound = InboundMessage.model_validate(
            {**inbound.model_dump(exclude_none=True), "whatsapp": message.extra}
        )
    recipient = Recipient(wa_id=message.sender.wa_id, user_id=message.sender.user_id)
    return Envelope(
        message=inbound,
        phone_number_id=message.phone_number_id,
        recipient=recipient,
        received_at=now,
    )


def _report(services: Services, notification: Notification) -> None:
    for update in notification.statuses:
        services.metrics.statuses.labels(update.status).inc()
        if update.error_codes:
            log.warning(
                "message.delivery_failed",
                message_id=update.message_id,
                status=update.status,
                codes=update.error_codes,
            )
        else:
            log.info("message.status", message_id=update.message_id, status=update.status)
    for error in notification.errors:
        log.warning("webhook.error", code=error.code, title=error.title)
    if notification.unknown:
        log.info("webhook.unknown_shape", shapes=notification.unknown[:20])
