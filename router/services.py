"""What the router's endpoints share for the life of the app, built by `create_app`."""

from dataclasses import dataclass

from router.agent_admin import AgentAdmin
from router.dispatcher import Dispatcher
from router.graph_api import GraphApiClient
from router.history import History
from router.inbox.base import Inbox
from router.live_routes import LiveRoutes
from router.metrics import RouterMetrics
from router.settings import RouterSettings


@dataclass(slots=True)
class Services:
    settings: RouterSettings
    routes: LiveRoutes
    inbox: Inbox
    metrics: RouterMetrics
    conversation_key: bytes = b""
    dispatcher: Dispatcher | None = None
    history: History | None = None  # the conversation store's writer, once started
    # The workers' Graph API client (its per-number pacing shared), for the admin calls
    # that send a person's words; None until started, or when workers are disabled.
    graph: GraphApiClient | None = None
    # The console's calls that agents answer (router/api/admin_*.py), made on its behalf.
    agents: AgentAdmin | None = None
    started: bool = False

    def wake_workers(self) -> None:
        if self.dispatcher is not None:
            self.dispatcher.wake()
