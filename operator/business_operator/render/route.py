"""A Business's entry in the routing table the router watches."""

from business_operator.render.context import Tenant
from katha.contracts.routing import Credentials, Route, media_daily_limits
from katha.contracts.serving import AGENT_PORT, AGENT_READS


def agent_endpoint(tenant: Tenant) -> str:
    return f"http://{tenant.child('agent')}.{tenant.namespace}.svc:{AGENT_PORT}"


def render_route(tenant: Tenant, credentials: Credentials) -> Route:
    spec = tenant.spec
    return Route(
        phone_number_id=spec.whatsapp.phone_number_id,
        tenant=tenant.key,
        endpoint=agent_endpoint(tenant),
        credentials=credentials,
        suspended=spec.suspend,
        paused=spec.paused,
        owner_number=spec.handoff.owner_number if spec.handoff.enabled else None,
        accepts=list(AGENT_READS),
        # Meta's account-wide webhooks carry only the account's id: the router finds the
        # Business by it, and fills the templates it sends outside a 24-hour window with
        # the names below.
        business_account_id=spec.whatsapp.business_account_id,
        templates=spec.whatsapp.templates,
        display_name=spec.display_name,
        assistant_name=spec.persona.name,
        retention_days=spec.memory.retention_days,
        media_daily_limits=media_daily_limits(spec),
    )
