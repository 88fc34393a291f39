"""`GET /webhooks/whatsapp`: Meta's subscription handshake.

Notifications (`POST /webhooks/whatsapp`) are answered by `WebhookFastPath`
(router/api/fastpath.py), in raw ASGI ahead of FastAPI's routing.
"""

import hmac
from typing import Annotated

from fastapi import APIRouter, Query, status
from fastapi.responses import PlainTextResponse

from katha.observability import get_logger
from router.api.deps import ServicesDep

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
