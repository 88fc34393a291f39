"""Liveness, readiness and Prometheus metrics."""

import asyncio

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from router.api.deps import ServicesDep
from router.services import Services

router = APIRouter(tags=["health"])

PING_TIMEOUT_SECONDS = 0.5


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(services: ServicesDep) -> JSONResponse:
    """Ready once the routing table is loaded, the inbox answers, and claims from it
    succeed (a store that takes messages but cannot hand them out is not ready)."""
    dispatcher = services.dispatcher
    checks = {
        "routes": services.routes.loaded,
        "inbox": services.started and await _answers(services),
        "claims": dispatcher is None or not dispatcher.claims_failing,
    }
    ready = all(checks.values())
    return JSONResponse({"ready": ready, **checks}, status_code=200 if ready else 503)


@router.get("/metrics")
async def metrics(services: ServicesDep) -> Response:
    body, content_type = services.metrics.metrics.exposition()
    return Response(body, media_type=content_type)


async def _answers(services: Services) -> bool:
    # A probe must answer within its own timeout: a store that takes longer (a client
    # retrying a dead connection) is as good as down.
    try:
        return await asyncio.wait_for(services.inbox.ping(), PING_TIMEOUT_SECONDS)
    except TimeoutError:
        return False
