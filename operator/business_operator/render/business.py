"""All the children of one Business, in the order they are applied."""

from typing import Any

from business_operator.render.agent import (
    render_config_map,
    render_deployment,
    render_service,
    render_service_account,
)
from business_operator.render.context import Tenant
from business_operator.render.index import render_index_volume
from business_operator.render.network import render_network_policy
from business_operator.render.ray import render_agent_rayservice


def render_agent_children(tenant: Tenant) -> list[dict[str, Any]]:
    workload = (
        render_agent_rayservice(tenant)
        if tenant.workload == "rayService"
        else render_deployment(tenant)
    )
    volume = render_index_volume(tenant)  # none when the index is in object storage
    return [
        render_config_map(tenant),
        *([volume] if volume is not None else []),
        render_service_account(tenant),
        render_service(tenant),
        render_network_policy(tenant),
        workload,
    ]
