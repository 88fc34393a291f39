"""The Answers JSON API: the unanswered groups and a trial question (read and try: staff
too), for scripts and the page's future enhancements."""

from typing import Any

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, Field

from console.answers import client
from console.auth.deps import CsrfDep, PrincipalDep
from console.conversations.access import Name, Namespace, ServicesDep, tenant_for
from console.router_client import RouterRefusedError, RouterUnavailableError

router = APIRouter(prefix="/api/v1/tenants/{namespace}/{name}", tags=["answers"])


class TryBody(BaseModel):
    text: str = Field(min_length=1, max_length=4096)


def _failed(error: Exception) -> HTTPException:
    if isinstance(error, RouterRefusedError) and error.status == status.HTTP_404_NOT_FOUND:
        return HTTPException(status.HTTP_404_NOT_FOUND, "no agent serves this Business")
    return HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "the agent is not reachable")


@router.get("/unanswered/groups")
async def unanswered_groups(
    namespace: Namespace, name: Name, principal: PrincipalDep, services: ServicesDep
) -> dict[str, Any]:
    tenant = tenant_for(principal, namespace, name)
    try:
        return {"groups": await client.groups(services.router.client, tenant)}
    except (RouterUnavailableError, RouterRefusedError) as error:
        raise _failed(error) from None


@router.post("/try")
async def try_question(
    namespace: Namespace, name: Name, body: TryBody, principal: CsrfDep, services: ServicesDep
) -> dict[str, Any]:
    tenant = tenant_for(principal, namespace, name)
    try:
        return await client.try_question(services.router.client, tenant, body.text)
    except (RouterUnavailableError, RouterRefusedError) as error:
        raise _failed(error) from None
