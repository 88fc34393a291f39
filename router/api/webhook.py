"""`/webhooks/whatsapp`: Meta's subscription handshake (GET) and notifications (POST).

Notifications are answered by `WebhookFastPath` (router/api/fastpath.py) in raw ASGI ahead
of FastAPI's routing; the POST route here documents them in the OpenAPI schema and serves
the same `Intake` when the fast path is not mounted.
"""

import hmac
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response, status
from fastapi.responses import PlainTextResponse

from katha.observability import get_logger
from router.api.deps import ServicesDep
from router.intake import Intake

router = APIRouter(tags=["webhooks"])
log = get_logger("router")


@router.get("/webhooks/whatsapp", response_class=PlainTextResponse)
async def verify_subscription(
    services: ServicesDep,
    mode: Annotated[str | None, Query(alias="hub.mode")] = None,
    token: Annotated[str | None, Query(alias="hub.verify_token")] = None,
    challenge: Annotated[str | None, Query(alias="hub.challenge")] = None,
) -> PlainTextResponse:
    offered = (token or "").encode()
    known = [
        hmac.compare_digest(offered, expected.encode())
        for expected in services.routes.verify_tokens
    ]
    if mode == "subscribe" and any(known) and challenge is not None:
        log.info("webhook.subscribed")
        return PlainTextResponse(challenge)
    log.warning("webhook.subscribe_refused", mode=mode)
    return PlainTextResponse("forbidden", status_code=status.HTTP_403_FORBIDDEN)


_NOTIFICATION = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"type": "object"}}},
        "description": "A WhatsApp Cloud API webhook body, signed with the Meta app's secret.",
    }
}


@router.post(
    "/webhooks/whatsapp",
    openapi_extra=_NOTIFICATION,
    responses={
        200: {"description": "Accepted (messages that could not be kept are skipped)."},
        400: {"description": "Signed, but not JSON."},
        401: {"description": "No signature of a known Meta app."},
        413: {"description": "Larger than max_body_bytes."},
        429: {"description": "Too many bad signatures lately; not read."},
        503: {"description": "The inbox is unavailable; Meta retries."},
    },
)
async def receive_notification(
    request: Request,
    x_hub_signature_256: Annotated[str | None, Header()] = None,
) -> Response:
    intake: Intake = request.app.state.intake
    limit = intake.services.settings.max_body_bytes
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            break
        chunks.append(chunk)
    body = b"".join(chunks) if size <= limit else None
    client = request.client.host if request.client else ""
    return Response(status_code=await intake.receive(body, x_hub_signature_256, client))
