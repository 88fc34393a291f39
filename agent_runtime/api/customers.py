"""One customer's data held by the agent (conversation memory, unanswered questions):
export and delete, for the owner console through the router's admin API. The router owns
the check that the conversation is this tenant's; this agent serves one tenant only."""

from typing import Annotated, Any

from fastapi import APIRouter, Path
from fastapi.concurrency import run_in_threadpool

from agent_runtime.api.deps import AgentDep
from agent_runtime.customers import (
    export_customer,
    forget_customer,
    retention_lifespan,
    state_scope,
)

# The router's conversation ids, exactly as router.envelope makes them ("c-" and 30 hex
# digits); anything else names nothing kept here and is refused before any lookup.
ConversationId = Annotated[str, Path(pattern=r"^c-[0-9a-f]{30}$")]

router = APIRouter(lifespan=retention_lifespan)


@router.get("/v1/customers/{conversation_id}")
async def export(agent: AgentDep, conversation_id: ConversationId) -> dict[str, Any]:
    """The conversation's memory (turns, last message) and its unanswered questions."""
    return await run_in_threadpool(export_customer, agent, conversation_id)


@router.delete("/v1/customers/{conversation_id}")
async def delete(agent: AgentDep, conversation_id: ConversationId) -> dict[str, Any]:
    """Delete both; idempotent (a second call deletes nothing and says so with zeros).
    `state` says whether other replicas may still hold what this one deleted."""
    counts = await run_in_threadpool(forget_customer, agent, conversation_id)
    return {"conversation_id": conversation_id, "deleted": counts, "state": state_scope(agent)}
