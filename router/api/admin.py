"""Admin calls (bearer token): release a conversation from a human back to the agent."""

import hmac
from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, status

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
    released = await release(services.inbox, conversation_id)
    return {"released": released}
