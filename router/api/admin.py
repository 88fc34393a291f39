"""Admin calls (bearer token): release a conversation from a human back to the agent, and
list the inbox's dead letters (ids, tenant, reason, size; never the message text)."""

import dataclasses
import hmac
from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException, Query, status

from router.api.deps import ServicesDep
from router.handoff import release

router = APIRouter(prefix="/admin", tags=["admin"])


def _authorize(services: ServicesDep, authorization: str | None) -> None:
    token = services.settings.admin_token
    if token is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "admin calls are not enabled")
    expected = f"Bearer {token.get_secret_value()}".encode()
    if not hmac.compare_digest(expected, (authorization or "").encode()):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "a valid admin token is required")


@router.post("/conversations/{conversation_id}/release")
async def release_conversation(
    conversation_id: str,
    services: ServicesDep,
    authorization: Annotated[str | None, Header()] = None,
) -> dict[str, bool]:
    _authorize(services, authorization)
    state = await services.inbox.conversation(conversation_id)
    number = state.phone_number_id
    route = services.routes.route_for(number) if number else None
    released = await release(services.inbox, conversation_id, route, services.history)
    if released:
        services.wake_workers()
    return {"released": released}


@router.get("/dead-letters")
async def list_dead_letters(
    services: ServicesDep,
    authorization: Annotated[str | None, Header()] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, list[dict[str, Any]]]:
    """The newest dead letters first: inbox entries that could not be loaded."""
    _authorize(services, authorization)
    letters = await services.inbox.dead_letters(limit)
    return {"dead_letters": [dataclasses.asdict(letter) for letter in letters]}
