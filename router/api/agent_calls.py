"""The admin modules' one way to reach a tenant's agent (router.agent_admin) on the
console's behalf: no route for the Business is 404, an agent that does not answer is 503,
and any HTTP answer is the caller's to read."""

from typing import Any

import httpx
from fastapi import HTTPException, status

from router.agent_admin import AgentDownError, AgentNotRoutedError
from router.services import Services


async def ask_agent(
    services: Services, tenant: str, method: str, path: str, **options: Any
) -> httpx.Response:
    """`method path` on `tenant`'s agent (`options` as httpx takes them)."""
    agents = services.agents
    if agents is None:  # only before the app started
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "agents are not reachable yet")
    try:
        return await agents.request(tenant, method, path, **options)
    except AgentNotRoutedError:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no agent serves this Business") from None
    except AgentDownError as error:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(error)) from None
