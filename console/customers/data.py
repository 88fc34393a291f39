"""One customer's data across Katha, as the console reaches it: the conversation store
directly (its own edge), the router's inbox and records and the agent's memory and
unanswered list through the router's admin API.

Deleting goes through the router first: when the router or the agent is down nothing is
deleted from the store either, so the conversation stays in the owner's list and the
owner's retry deletes everything. When the store then fails, the router's and the
agent's parts are gone already: that is audited as a partial deletion, and the
conversation, still in the store, stays in the list for the retry, which finds the
router's part gone (zeros) and finishes the store's. One audit row names the
conversation id, never the number. A conversation the store does not hold for this
Business is no customer of it: nothing is asked of the router (404).
"""

from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from console.auth.deps import audit
from console.auth.principal import Principal
from console.customers.client import delete_through_router, export_from_router
from console.services import ConsoleServices
from katha.observability import bind_ids, get_logger

log = get_logger("console")

DELETED = "customer_deleted"
PARTIAL = "customer_delete_partial"
EXPORTED = "customer_exported"


async def export_customer(
    services: ConsoleServices, principal: Principal, tenant: str, conversation_id: str
) -> dict[str, Any] | None:
    """Everything kept about the customer, in three parts; None when the store holds no
    such conversation of this Business (nothing to export, or another Business's)."""
    stored = await services.store.export_customer(tenant, conversation_id)
    if stored.conversation is None:
        return None
    routed = await export_from_router(services.router.client, tenant, conversation_id)
    await audit(services, principal, EXPORTED, tenant, conversation_id)
    return {
        "tenant": tenant,
        "conversation_id": conversation_id,
        "exported_at": services.clock().isoformat(),
        "conversation_store": stored.model_dump(mode="json", exclude={"tenant", "conversation_id"}),
        "router": routed.get("router", {}),
        "agent": routed.get("agent", {}),
    }


class StorePartFailedError(RuntimeError):
    """The router and the agent deleted the customer; the conversation store did not."""

    def __init__(self, routed: dict[str, Any]) -> None:
        super().__init__("the conversation store did not delete the customer")
        self.routed = routed


async def delete_customer(
    services: ConsoleServices, principal: Principal, tenant: str, conversation_id: str
) -> dict[str, Any] | None:
    """Delete the customer everywhere (router and agent, then the store); the counts, or
    None when the store holds no such conversation of this Business."""
    if (await services.store.export_customer(tenant, conversation_id)).conversation is None:
        return None
    routed = await delete_through_router(services.router.client, tenant, conversation_id)
    try:
        stored = await services.store.forget_customer(tenant, conversation_id)
    except (SQLAlchemyError, OSError) as error:
        await _audit_partial(services, principal, tenant, conversation_id)
        raise StorePartFailedError(routed) from error
    await audit(services, principal, DELETED, tenant, conversation_id)
    return {
        "conversation_id": conversation_id,
        "conversation_store": stored.model_dump(),
        "router": routed.get("router", {}),
        "agent": routed.get("agent", {}),
        "agent_state": routed.get("agent_state", {}),
    }


async def _audit_partial(
    services: ConsoleServices, principal: Principal, tenant: str, conversation_id: str
) -> None:
    """Audit that the router's and the agent's parts went; the audit log is in the same
    store, so when it fails too the log says it instead (the retry's row follows)."""
    try:
        await audit(services, principal, PARTIAL, tenant, conversation_id)
    except (SQLAlchemyError, OSError) as error:
        with bind_ids(tenant=tenant, conversation_id=conversation_id):
            log.warning("customer.delete_partial", audit=False, reason=type(error).__name__)


def others_may_remember(deleted: dict[str, Any]) -> bool:
    """Whether other replicas of the agent may still hold the customer's memory or
    questions: each keeps its own, and the deletion reached one (until retention)."""
    return "replica" in deleted.get("agent_state", {}).values()
