"""The console's side of the router's customer-data calls (router/api/admin_customers.py):
export and delete what the router and the Business's agent hold about one customer.

Made with the router client's connection (`services.router.client`: its base URL and
admin token), and its errors mapped as RouterAdmin maps them: no answer or 5xx is
RouterUnavailableError (try again), 4xx RouterRefusedError.
"""

from typing import Annotated, Any

import httpx
from fastapi import Path

from console.router_client import admin_path, call_json

# A conversation id exactly as the router makes it (router.envelope.conversation_id: "c-"
# and 30 hex digits): it names the customer's records in the router, so any other form is
# refused (422) before anything is looked up.
CustomerId = Annotated[str, Path(pattern=r"^c-[0-9a-f]{30}$")]

# Deleting asks the agent too: longer than a message's call.
TIMEOUT_SECONDS = 30.0


def _path(tenant: str, conversation_id: str) -> str:
    return admin_path(tenant, "customers", conversation_id)


async def export_from_router(
    client: httpx.AsyncClient, tenant: str, conversation_id: str
) -> dict[str, Any]:
    """The router's part (inbox, state, records) and the agent's (memory, unanswered)."""
    path = _path(tenant, conversation_id) + "/export"
    return await call_json(client, "GET", path, timeout=TIMEOUT_SECONDS)


async def delete_through_router(
    client: httpx.AsyncClient, tenant: str, conversation_id: str
) -> dict[str, Any]:
    """Delete both parts; what each deleted (zeros when done already)."""
    path = _path(tenant, conversation_id)
    return await call_json(client, "DELETE", path, timeout=TIMEOUT_SECONDS)
