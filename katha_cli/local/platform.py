"""`katha up`: the whole platform on one machine, from the same Business files a cluster uses.

In order: validate every resource in the folder; create or migrate the conversation store
(`store`, a SQLite file in the state folder); serve its local web sites (if it has a
`sites/` folder); ingest each Business's knowledge into an index under the state folder
(skipped when nothing changed since the last run, `indexing`); start a local Ray instance
with one Serve application per Business (`ray_agents`); start the local Graph API (the
outbox) and the router with a routing-table file derived from the same files
(`router_process`), then the owner console on loopback, sharing the store and the router's
admin token (`console_process`); print what a WhatsApp developer needs per tenant
(`summary`); follow the folder, applying each change to a Business (an owner's in the
console, a developer's edit) and each request to re-index without a restart (`follow`);
wait for Ctrl-C (`interrupts`).
"""

import os
import socket
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from katha.contracts.serving import AgentAppArgs, IndexStats
from katha_cli.local import Say, console_process, ray_agents, router_process
from katha_cli.local.endpoints import AgentEndpoints
from katha_cli.local.follow import Follower, refresh_requests_dir
from katha_cli.local.indexing import IndexOutcome, index_all
from katha_cli.local.interrupts import Interrupts, StartInterruptedError
from katha_cli.local.lock import StateLockedError, lock_state_dir, unlock
from katha_cli.local.meta_rules import META_WINDOW_SECONDS, WINDOW_ENV, window_seconds_from_env
from katha_cli.local.outbox import Outbox, OutboxMessage
from katha_cli.local.servers import BackgroundServer, bind
from katha_cli.local.state import STATE_FILE, write_private
from katha_cli.local.store import StoreMigrationError, migrate_store, store_path
from katha_cli.local.summary import reply_line, summary_lines, up_state
from katha_cli.local.workspace import LocalTenant, Workspace, load_workspace, missing_files

__all__ = [
    "LocalPlatform",
    "StartInterruptedError",
    "StateLockedError",
    "StoreMigrationError",
    "UpOptions",
]


@dataclass
class UpOptions:
    directory: Path
    state_dir: Path
    host: str = "127.0.0.1"
    port: int = 8080  # the router: WhatsApp's webhooks come here
    agent_port: int = 0  # Ray Serve's HTTP proxy; 0 picks a free one
    sites_port: int = 8790  # the folder's `sites/`, for `web` sources
    console_port: int = console_process.DEFAULT_CONSOLE_PORT  # the owner console, on loopback
    refresh: bool = False  # re-ingest even when nothing changed
    show_messages: bool = True
    ready_timeout: float = 300.0
    log_level: str = "WARNING"


class LocalPlatform:
    """Everything `katha up` started, so that `stop()` takes it down in reverse order."""

    def __init__(self, options: UpOptions, say: Say) -> None:
        self.options = options
        self.say = say
        self.state_dir = options.state_dir.resolve()
        self.workspace: Workspace | None = None
        self.servers: list[BackgroundServer] = []
        self.follower: Follower | None = None
        self.agent_endpoints: AgentEndpoints | None = None
        self.routes_file = self.state_dir / "routes.json"
        # Where the router reaches each tenant's agent (ray_agents.agent_endpoints); the
        # routing-table file is written by the follower's thread and the endpoints' thread.
        self.endpoints: dict[str, str] = {}
        self._routes_lock = threading.Lock()
        self.outbox: Outbox | None = None
        self.ray_started = False
        self.indexes: dict[str, IndexOutcome] = {}
        self.stats: dict[str, IndexStats] = {}
        self.router_url = ""
        self.router_admin_url = ""  # where the console reaches the router (loopback if it can)
        self.graph_url = ""
        self.agents_url = ""
        self.store_url = ""  # the conversation store, once migrated
        self.console_url = ""
        # The router's /admin token, which the owner console calls it with; new each run.
        self.admin_token = console_process.new_admin_token()
        self.window_seconds = META_WINDOW_SECONDS  # Meta's reply window, as the outbox keeps it
        self.interrupts = Interrupts(say)
        self._lock: int | None = None
        self._wrote_state = False

    # -- start -------------------------------------------------------------------------

    def start(self) -> None:
        """Start everything; a Ctrl-C meanwhile stops after the current step (a second one
        at once), with `StartInterruptedError` raised to the caller, who then calls `stop()`."""
        options, checkpoint = self.options, self.interrupts.checkpoint
        os.umask(0o077)  # the inbox, outbox and secrets hold customers' messages and numbers
        self.state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._lock = lock_state_dir(self.state_dir)
        self.interrupts.catch()
        workspace = load_workspace(options.directory, self.state_dir)
        self.workspace = workspace
        self.window_seconds = window_seconds_from_env()  # a typo fails before minutes of work
        self._describe(workspace)
        # Bind the sockets first: a port in use is reported before minutes of indexing.
        router_sock = bind(options.host, options.port, "router")
        console_sock = bind("127.0.0.1", options.console_port, "owner console")
        # A store that cannot be migrated stops here too, before Ray and indexing.
        self.store_url = migrate_store(self.state_dir)
        self.say(f"  · conversations kept in {store_path(self.state_dir)}")
        sites = options.directory / "sites"
        if sites.is_dir():
            self._serve_sites(sites)
        # Ray before ingestion: Ray starts its processes with fork, which LanceDB (loaded by
        # ingestion) warns about.
        checkpoint()
        port = ray_agents.serve_port(options.agent_port)
        ray_agents.start_ray(workspace, port, self.say)
        self.ray_started = True
        self.agents_url = ray_agents.start_serve(port)
        checkpoint()
        self.indexes = index_all(
            workspace, self.state_dir, refresh=options.refresh, say=self.say, checkpoint=checkpoint
        )
        checkpoint()
        self.stats = ray_agents.start_agents(
            workspace, self.agents_url, self.app_args, options.ready_timeout, self.say
        )
        checkpoint()
        self._start_router(workspace, router_sock)
        self._start_console(workspace, console_sock)
        self._write_state(workspace)
        self.follower = Follower(self).start()
        self.agent_endpoints = AgentEndpoints(self).start()
        lines = summary_lines(
            workspace, self.router_url, self.stats, self.indexes, console_url=self.console_url
        )
        for line in lines:
            self.say(line)
        checkpoint()

    def _describe(self, workspace: Workspace) -> None:
        self.say(f"Katha: {len(workspace.tenants)} business(es) in {workspace.directory}")
        for tenant in workspace.tenants:
            mode = "live, replies go to WhatsApp" if tenant.live else "replies go to the outbox"
            self.say(f"  ✓ {tenant.key} ({tenant.display_name}): {mode}")
            for missing in missing_files(tenant):
                self.say(f"    ! no such file for source {missing}")
        if self.window_seconds != META_WINDOW_SECONDS:
            self.say(
                f"  · Meta's 24-hour reply window is {self.window_seconds:g} s here ({WINDOW_ENV})"
            )
        for model in workspace.language_models:
            self.say(
                f"  · LanguageModel {model.metadata.name}: needs a GPU, not served here; "
                "Businesses that use it answer with the built-in responder"
            )

    def _serve_sites(self, sites: Path) -> None:
        from starlette.applications import Starlette
        from starlette.routing import Mount
        from starlette.staticfiles import StaticFiles

        app = Starlette(routes=[Mount("/", app=StaticFiles(directory=sites, html=True))])
        sock = bind("127.0.0.1", self.options.sites_port, "local web sites")
        server = BackgroundServer(app, sock, "sites").start()
        self.servers.append(server)
        self.say(f"  · {sites} served at {server.url}/")

    def app_args(self, tenant: LocalTenant) -> AgentAppArgs:
        return ray_agents.app_args(tenant, self.state_dir, self.indexes.get(tenant.key))

    def _start_router(self, workspace: Workspace, router_sock: socket.socket) -> None:
        self.outbox = Outbox(self.state_dir / "outbox.db")
        window = self.window_seconds
        graph = router_process.start_graph_api(
            self.outbox, workspace, on_message=self._show, window_seconds=window
        )
        self.servers.append(graph)
        routes_file = self.routes_file
        self.endpoints = ray_agents.agent_endpoints(workspace, self.agents_url)
        self._write_routes()
        settings = router_process.router_settings(
            router_sock.getsockname()[1],
            host=self.options.host,
            state_dir=self.state_dir,
            routes_file=routes_file,
            graph_url=graph.url,
            log_level=self.options.log_level,
            store_url=self.store_url,
            window_seconds=window,
            admin_token=self.admin_token,
        )
        router = router_process.start_router(router_sock, settings)
        self.servers.append(router)
        self.router_url = router.url
        self.router_admin_url = console_process.reachable_url(
            router.url, self.options.host, router.port
        )
        self.graph_url = graph.url
        router_process.wait_until_ready(router.url)

    def _start_console(self, workspace: Workspace, sock: socket.socket) -> None:
        settings = console_process.console_settings(
            sock.getsockname()[1],
            store_url=self.store_url,
            router_url=self.router_admin_url,
            admin_token=self.admin_token,
            secret=console_process.session_secret(self.state_dir),
            log_level=self.options.log_level,
        )
        local = frozenset(tenant.key for tenant in workspace.tenants if not tenant.live)
        # The console writes owners' changes to the Business files; `follow` applies them.
        businesses = console_process.file_businesses(
            workspace, refresh_requests_dir(self.state_dir)
        )
        console = console_process.start_console(
            sock, settings, say=self.say, local_tenants=local, businesses=businesses
        )
        self.servers.append(console)
        self.console_url = console.url

    def _write_state(self, workspace: Workspace) -> None:
        state = up_state(
            workspace, self.router_url, self.graph_url, self.agents_url, self.console_url
        )
        write_private(self.state_dir / STATE_FILE, state.model_dump_json(indent=2))
        self._wrote_state = True
        self.interrupts.starting = False

    def publish(self, workspace: Workspace) -> None:
        """The Businesses now serving (after `follow` applied a change): the router's
        routing table (owner number, pause; the router reloads the file by itself) and
        the state file `katha chat` and `katha ask` read."""
        self.workspace = workspace
        self._write_routes()
        self._write_state(workspace)

    def use_endpoints(self, endpoints: Mapping[str, str]) -> bool:
        """Reach the agents at `endpoints` from now on; True when that changed any."""
        with self._routes_lock:
            if dict(endpoints) == self.endpoints:
                return False
            self.endpoints = dict(endpoints)
        self._write_routes()
        return True

    def _write_routes(self) -> None:
        """The routing-table file for the Businesses serving now; the router reloads it."""
        with self._routes_lock:
            workspace = self.workspace
            if workspace is None:
                return
            # A Business the follower has not had an endpoint for yet: the proxy's.
            endpoints = {
                **router_process.proxy_endpoints(workspace, self.agents_url),
                **self.endpoints,
            }
            router_process.write_routes(workspace, endpoints, self.routes_file)

    def _show(self, message: OutboxMessage) -> None:
        """Replies of local tenants, as the customer's phone would show them. A live
        tenant's replies go to real customers: they are never printed."""
        if not self.options.show_messages or message.text is None or message.forwarded:
            return
        tenant = self._tenant_by_number(message.phone_number_id)
        if tenant is None or tenant.live:
            return
        self.say(reply_line(tenant, message))

    def _tenant_by_number(self, number: str) -> LocalTenant | None:
        for tenant in self.workspace.tenants if self.workspace else []:
            if tenant.phone_number_id == number:
                return tenant
        return None

    # -- run and stop ------------------------------------------------------------------

    def wait(self) -> bool:
        """Block until Ctrl-C or SIGTERM (True), or until a server thread dies (False)."""
        return self.interrupts.wait(self.servers)

    def request_stop(self) -> None:
        self.interrupts.request_stop()

    def stop(self) -> None:
        """Stop in reverse order; each step runs even when an earlier one failed."""
        self.interrupts.request_stop()
        self.interrupts.starting = False
        self.interrupts.catch()
        if self.follower is not None:  # no change applied while things stop under it
            self.follower.stop()
            self.follower = None
        if self.agent_endpoints is not None:
            self.agent_endpoints.stop()
            self.agent_endpoints = None
        if self._wrote_state:  # never another `katha up`'s
            (self.state_dir / STATE_FILE).unlink(missing_ok=True)
        for server in reversed(self.servers):
            if server.name == "router":  # drain the router before its agents go away
                server.stop()
        if self.ray_started:
            ray_agents.stop_ray()
            self.ray_started = False
        for server in reversed(self.servers):
            server.stop()
        self.servers.clear()
        if self.outbox is not None:
            self.outbox.close()
            self.outbox = None
        if self._lock is not None:
            unlock(self._lock)
            self._lock = None
