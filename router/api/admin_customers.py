"""Admin calls for one customer's data (the owner console's Customer data page): export
and delete what the router holds (inbox messages, conversation and handoff state, the
ids the customer is known by, whom to answer) and what the agent holds (memory,
unanswered list), through router.agent_admin.

- GET    /admin/tenants/{namespace}/{name}/customers/{conversation_id}/export
- DELETE /admin/tenants/{namespace}/{name}/customers/{conversation_id}

A conversation id is a pseudonym of one business number and one customer, so it belongs
to one Business: when what the router holds says it is another Business's, the answer
is 404 and nothing is read or deleted. Deleting asks the agent first: an agent that is
down (503) leaves the router's part whole, so the console's retry does all of it, and
every step deletes what is there, so a retry after a half-done call finishes it.
"""

import dataclasses
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, status

from katha.observability import bind_ids, get_logger
from router import identity
from router.account import OPTED_OUT
from router.api.agent_calls import ask_agent
from router.api.deps import AdminServicesDep
from router.console_actions import SENT
from router.handoff import CUSTOMER
from router.inbox.base import ConversationState
from router.services import Services

router = APIRouter(prefix="/admin", tags=["admin"])

log = get_logger("router")

Namespace = Annotated[str, Path(max_length=63, pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")]
Name = Annotated[str, Path(max_length=253, pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")]
# Exactly the form router.envelope.conversation_id makes ("c-" and 30 hex digits): an id
# is also a record name, so nothing shorter or longer may reach the inbox.
ConversationId = Annotated[str, Path(pattern=r"^c-[0-9a-f]{30}$")]
CUSTOMER_PATH = "/tenants/{namespace}/{name}/customers/{conversation_id}"
ANSWERS: dict[int | str, dict[str, Any]] = {
    404: {"description": "No agent routed for this Business, or another Business's customer."},
    503: {"description": "The agent or the inbox did not answer: nothing was half-deleted."},
}


def _records(conversation_id: str) -> list[str]:
    """The record names kept under one conversation: whom to answer, a marketing opt-out
    (forgotten with the rest: with no way to reach them left, nothing can be sent), each
    one record named exactly; and the console's sent-markers, the one family, anchored on
    the whole id and its ":" (see Inbox.records_named)."""
    return [CUSTOMER + conversation_id, OPTED_OUT + conversation_id, f"{SENT}{conversation_id}:"]


async def _check_owner(services: Services, tenant: str, conversation_id: str) -> ConversationState:
    """404 unless everything the router holds of this conversation is `tenant`'s."""
    state = await services.inbox.conversation(conversation_id)
    tenants = {entry.tenant for entry in await services.inbox.conversation_entries(conversation_id)}
    if state.phone_number_id is not None:
        route = services.routes.route_for(state.phone_number_id)
        if route is not None:  # a number no longer routed says nothing either way
            tenants.add(route.tenant)
    if tenants - {tenant}:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such customer for this Business")
    return state


async def _agent_call(services: Services, tenant: str, method: str, path: str) -> Any:
    answer = await ask_agent(services, tenant, method, path)
    if answer.status_code >= 500:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "the agent failed: try again")
    if answer.status_code >= 400:
        raise HTTPException(answer.status_code, "the agent refused the conversation id")
    return answer.json()


@router.get(CUSTOMER_PATH + "/export", responses=ANSWERS)
async def export_customer(
    services: AdminServicesDep, namespace: Namespace, name: Name, conversation_id: ConversationId
) -> dict[str, Any]:
    """Everything the router and the agent hold about one customer of this Business."""
    tenant = f"{namespace}/{name}"
    state = await _check_owner(services, tenant, conversation_id)
    inbox = services.inbox
    records = await identity.aliases_of(inbox, conversation_id)
    for prefix in _records(conversation_id):
        records |= await inbox.records_named(prefix)
    entries = await inbox.conversation_entries(conversation_id)
    agent = await _agent_call(services, tenant, "GET", f"/v1/customers/{conversation_id}")
    return {
        "tenant": tenant,
        "conversation_id": conversation_id,
        "router": {
            "messages": [dataclasses.asdict(entry) for entry in entries],
            "conversation": dataclasses.asdict(state),
            "records": records,
        },
        "agent": agent,
    }


@router.delete(CUSTOMER_PATH, responses=ANSWERS)
async def delete_customer(
    services: AdminServicesDep, namespace: Namespace, name: Name, conversation_id: ConversationId
) -> dict[str, Any]:
    """Delete one customer of this Business from the agent, then from the router's inbox
    and records; how much went from each. Idempotent: again, every count is zero."""
    tenant = f"{namespace}/{name}"
    await _check_owner(services, tenant, conversation_id)
    agent = await _agent_call(services, tenant, "DELETE", f"/v1/customers/{conversation_id}")
    inbox = services.inbox
    messages = await inbox.forget_conversation(conversation_id)
    records = 0
    for prefix in _records(conversation_id):
        records += await inbox.forget_records(prefix)
    aliases = await identity.forget_aliases(inbox, conversation_id)
    with bind_ids(tenant=tenant, conversation_id=conversation_id):
        log.info("customer.deleted", messages=messages, records=records, aliases=aliases)
    return {
        "tenant": tenant,
        "conversation_id": conversation_id,
        "router": {"messages": messages, "records": records, "aliases": aliases},
        "agent": agent.get("deleted", {}),
        # Whether another replica of the agent may still hold the customer's memory.
        "agent_state": agent.get("state", {}),
    }
