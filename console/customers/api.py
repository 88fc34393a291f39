"""The customer-data JSON API under /api/v1, for integrations and scripts:

- GET    /api/v1/tenants/{namespace}/{name}/customers/{conversation_id}  -> the export
  (a download: Content-Disposition attachment)
- DELETE /api/v1/tenants/{namespace}/{name}/customers/{conversation_id}  -> the counts

Deleting is the owner's alone ("manage"; a staff member gets 404, as for a Business they
lack) and needs the CSRF token with a session cookie. The router or the agent not
answering is 503 with nothing deleted from the store; the store failing after them is 503
too, with the conversation kept: ask again, and the retry finishes it.
"""

import json
from typing import Any

from fastapi import APIRouter, HTTPException, status
from fastapi.responses import Response

from console.auth.deps import CsrfDep, PrincipalDep
from console.conversations.access import Name, Namespace, ServicesDep, tenant_for
from console.conversations.schemas import Problem
from console.customers.client import CustomerId
from console.customers.data import StorePartFailedError, delete_customer, export_customer
from console.router_client import RouterRefusedError, RouterUnavailableError

router = APIRouter(prefix="/api/v1", tags=["customers"])

CUSTOMER = "/tenants/{namespace}/{name}/customers/{conversation_id}"
ANSWERS: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "Not signed in: no session, no valid API token"},
    403: {"model": Problem, "description": "A session's call without its CSRF token"},
    404: {"model": Problem, "description": "No such Business for this principal (or not "
          "its owner, to delete), or no such customer in it"},
    503: {"model": Problem, "description": "The router, the agent or the store is not "
          "answering: try again (a retry finishes a deletion that stopped half-way)"},
}  # fmt: skip


def refused(error: RouterUnavailableError | RouterRefusedError) -> HTTPException:
    """The router's answer as the console's: 404 for a customer that is not this
    Business's, 503 for anything to try again."""
    if isinstance(error, RouterRefusedError) and error.status == status.HTTP_404_NOT_FOUND:
        return HTTPException(status.HTTP_404_NOT_FOUND, "no such customer")
    return HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "Katha cannot reach it; try again")


def download_name(conversation_id: str) -> str:
    return f"customer-{conversation_id}.json"


async def export_response(
    services: ServicesDep, principal: PrincipalDep, tenant: str, conversation_id: str
) -> Response:
    """The export as a JSON download; shared with the page's Export link."""
    try:
        exported = await export_customer(services, principal, tenant, conversation_id)
    except (RouterUnavailableError, RouterRefusedError) as error:
        raise refused(error) from error
    if exported is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such customer")
    body = json.dumps(exported, ensure_ascii=False, indent=2)
    disposition = f'attachment; filename="{download_name(conversation_id)}"'
    return Response(
        body,
        media_type="application/json",
        headers={"Content-Disposition": disposition, "Cache-Control": "no-store"},
    )


@router.get(CUSTOMER, responses=ANSWERS)
async def export(
    namespace: Namespace,
    name: Name,
    conversation_id: CustomerId,
    principal: PrincipalDep,
    services: ServicesDep,
) -> Response:
    """Everything Katha keeps about one customer: the conversation store's row and
    events, the router's inbox messages, state and records, the agent's memory and
    unanswered questions."""
    tenant = tenant_for(principal, namespace, name)
    return await export_response(services, principal, tenant, conversation_id)


@router.delete(CUSTOMER, responses=ANSWERS)
async def delete(
    namespace: Namespace,
    name: Name,
    conversation_id: CustomerId,
    principal: CsrfDep,
    services: ServicesDep,
) -> dict[str, Any]:
    """Delete one customer everywhere; once deleted, the customer is not found (404).
    `agent_state` says whether other replicas of the agent may still hold its part."""
    tenant = tenant_for(principal, namespace, name, "manage")
    try:
        deleted = await delete_customer(services, principal, tenant, conversation_id)
    except (RouterUnavailableError, RouterRefusedError) as error:
        raise refused(error) from error
    except StorePartFailedError as error:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, "deleted in part; try again to finish"
        ) from error
    if deleted is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such customer")
    return deleted
