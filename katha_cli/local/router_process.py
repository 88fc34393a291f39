"""The router of `katha up` and the local Graph API (the outbox) it sends replies to, with
a routing-table file derived from the same Business files a cluster uses."""

import json
import socket
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
from pydantic import SecretStr

from katha.contracts.routing import Route, RoutingTable, media_daily_limits, route_document
from katha.contracts.serving import AGENT_READS
from katha_cli.local.meta_rules import META_WINDOW_SECONDS, GraphRules
from katha_cli.local.outbox import GRAPH_VERSION, Outbox, OutboxMessage, create_graph_app
from katha_cli.local.servers import BackgroundServer, bind
from katha_cli.local.state import write_private
from katha_cli.local.workspace import LocalTenant, Workspace

if TYPE_CHECKING:
    from router.settings import RouterSettings

# A conversation handed to a person comes back to the agent after this long locally (24 h
# in a cluster), or at once with `/release` in `katha chat`.
LOCAL_HANDOFF_SECONDS = 600.0


def route(tenant: LocalTenant, endpoint: str) -> Route:
    """The tenant's routing-table entry, its agent at `endpoint` (ray_agents.agent_endpoints)."""
    spec = tenant.business.spec
    handoff = spec.handoff
    return Route(
        phone_number_id=tenant.phone_number_id,
        tenant=tenant.key,
        endpoint=endpoint,
        credentials=tenant.credentials,
        paused=spec.paused,
        owner_number=handoff.owner_number if handoff.enabled else None,
        accepts=list(AGENT_READS),
        business_account_id=spec.whatsapp.business_account_id,
        templates=spec.whatsapp.templates,
        display_name=tenant.display_name,
        assistant_name=spec.persona.name,
        media_daily_limits=media_daily_limits(spec),
    )


def graph_rules(workspace: Workspace, window_seconds: float) -> GraphRules:
    """Meta's rules for the local numbers: each Business's declared templates, the window."""
    templates = {
        tenant.phone_number_id: tenant.business.spec.whatsapp.templates
        for tenant in workspace.tenants
    }
    return GraphRules(templates=templates, window_seconds=window_seconds)


def start_graph_api(
    outbox: Outbox,
    workspace: Workspace,
    on_message: Callable[[OutboxMessage], None],
    window_seconds: float = META_WINDOW_SECONDS,
) -> BackgroundServer:
    """The local Graph API: local tenants' replies land in the outbox once they pass Meta's
    rules, live ones go to Meta."""
    live = frozenset(tenant.phone_number_id for tenant in workspace.tenants if tenant.live)
    rules = graph_rules(workspace, window_seconds)
    graph_app = create_graph_app(outbox, live, on_message=on_message, rules=rules)
    return BackgroundServer(graph_app, bind("127.0.0.1", 0, "local Graph API"), "graph").start()


def proxy_endpoints(workspace: Workspace, agents_url: str) -> dict[str, str]:
    """Each tenant's agent through Serve's HTTP proxy at `agents_url`, at its route prefix."""
    return {tenant.key: agents_url + tenant.route_prefix for tenant in workspace.tenants}


def write_routes(workspace: Workspace, endpoints: Mapping[str, str], routes_file: Path) -> None:
    """Write the routing table, each tenant's agent at `endpoints[tenant.key]`."""
    table = RoutingTable(
        routes=[route(tenant, endpoints[tenant.key]) for tenant in workspace.tenants]
    )
    documents = [json.loads(route_document(entry)) for entry in table.routes]
    write_private(routes_file, json.dumps({"routes": documents}, indent=2))


def router_settings(
    port: int,
    *,
    host: str,
    state_dir: Path,
    routes_file: Path,
    graph_url: str,
    log_level: str,
    store_url: str | None = None,
    window_seconds: float = META_WINDOW_SECONDS,
    admin_token: str | None = None,
) -> "RouterSettings":
    """The router's settings on one machine: the files of the state folder, the local
    Graph API, the conversation store (`KATHA_ROUTER_STORE_URL` in a cluster) and the
    admin token the owner console calls it with (`KATHA_ROUTER_ADMIN_TOKEN`)."""
    from router.settings import RouterSettings

    return RouterSettings(
        host=host,
        port=port,
        routes_file=routes_file,
        inbox_url=f"sqlite:///{state_dir / 'router' / 'inbox.db'}",
        graph_api_url=f"{graph_url}/{GRAPH_VERSION}",
        log_level=log_level,
        reply_tracking=True,  # what `katha chat` shows: language, intent, sources
        handoff_timeout_seconds=LOCAL_HANDOFF_SECONDS,
        # The router's idea of the window is the local Graph API's, so that it chooses
        # templates when the local "Meta" would refuse a free-form message.
        reply_window_seconds=window_seconds,
        store_url=SecretStr(store_url) if store_url is not None else None,
        admin_token=SecretStr(admin_token) if admin_token is not None else None,
    )


def start_router(sock: socket.socket, settings: "RouterSettings") -> BackgroundServer:
    """Serve the router on `sock` (bound up front) with `settings` from `router_settings`."""
    from router.app import create_app

    return BackgroundServer(create_app(settings), sock, "router").start()


def wait_until_ready(router_url: str) -> None:
    with httpx.Client(timeout=5) as client:
        deadline = time.monotonic() + 30
        while client.get(f"{router_url}/readyz").status_code != 200:
            if time.monotonic() > deadline:
                raise RuntimeError("the router did not become ready")
            time.sleep(0.1)
