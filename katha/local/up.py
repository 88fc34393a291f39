"""`katha up`: the whole platform on one machine, from the same Business files a cluster uses.

In order: validate every resource in the folder; serve its local web sites (if it has a
`sites/` folder); ingest each Business's knowledge into an index under the state folder
(skipped when nothing changed since the last run); start a local Ray instance with one
Serve application per Business, built by the same `build_app` the operator names; start
the local Graph API (the outbox) and the router with a routing-table file derived from
the same files; print what a WhatsApp developer needs per tenant; wait for Ctrl-C.
"""

import fcntl
import hashlib
import json
import logging
import os
import re
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import httpx

from katha.local.outbox import GRAPH_VERSION, Outbox, OutboxMessage, create_graph_app
from katha.local.servers import BackgroundServer, bind, free_port
from katha.local.state import STATE_FILE, TenantInfo, UpState, write_private
from katha.local.workspace import (
    LocalTenant,
    Workspace,
    env_name,
    files_digest,
    load_workspace,
    missing_files,
    read_env_file,
)
from katha.routing import Route, RoutingTable, route_document
from katha.serving import AgentAppArgs, IndexStats, LlmEndpoint, knowledge_revision

Say = Callable[[str], None]
FORCE_AFTER_INTERRUPTS = 3  # the first stops, the second hurries, the third forces
LOOPBACK = "127.0.0.1"
# A conversation handed to a person comes back to the agent after this long locally (24 h
# in a cluster), or at once with `/release` in `katha chat`.
LOCAL_HANDOFF_SECONDS = 600.0


def keep_ray_on_loopback() -> None:
    """One machine is not a Ray cluster. Without this, Ray takes the machine's address as
    the node's and binds its gRPC ports and its Prometheus exporters to every interface;
    with it, every Ray port listens on loopback (on Linux too). Ray reads it when first
    imported, so call this before anything imports Ray."""
    os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")


@dataclass
class UpOptions:
    directory: Path
    state_dir: Path
    host: str = "127.0.0.1"
    port: int = 8080  # the router: WhatsApp's webhooks come here
    agent_port: int = 0  # Ray Serve's HTTP proxy; 0 picks a free one
    sites_port: int = 8790  # the folder's `sites/`, for `web` sources
    refresh: bool = False  # re-ingest even when nothing changed
    show_messages: bool = True
    ready_timeout: float = 300.0
    log_level: str = "WARNING"


@dataclass
class IndexOutcome:
    reused: bool
    revision: str
    failures: list[str] = field(default_factory=list)
    error: str | None = None


class Platform:
    """Everything `katha up` started, so that `stop()` takes it down in reverse order."""

    def __init__(self, options: UpOptions, say: Say) -> None:
        self.options = options
        self.say = say
        self.state_dir = options.state_dir.resolve()
        self.workspace: Workspace | None = None
        self.servers: list[BackgroundServer] = []
        self.outbox: Outbox | None = None
        self.ray_started = False
        self.indexes: dict[str, IndexOutcome] = {}
        self.stats: dict[str, IndexStats] = {}
        self.router_url = ""
        self.agents_url = ""
        self._stop = threading.Event()
        self._interrupts = 0
        self._starting = True
        self._lock: int | None = None
        self._wrote_state = False

    # -- start -------------------------------------------------------------------------

    def start(self) -> None:
        """Start everything; a Ctrl-C meanwhile stops after the current step (a second one
        at once), with `StartInterruptedError` raised to the caller, who then calls `stop()`."""
        options = self.options
        os.umask(0o077)  # the inbox, outbox and secrets hold customers' messages and numbers
        self.state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._lock = _lock(self.state_dir)
        self._catch_signals()
        workspace = load_workspace(options.directory, self.state_dir)
        self.workspace = workspace
        self.say(f"Katha: {len(workspace.tenants)} business(es) in {workspace.directory}")
        for tenant in workspace.tenants:
            mode = "live, replies go to WhatsApp" if tenant.live else "replies go to the outbox"
            self.say(f"  ✓ {tenant.key} ({tenant.display_name}): {mode}")
            for missing in missing_files(tenant):
                self.say(f"    ! no such file for source {missing}")
        for model in workspace.language_models:
            self.say(
                f"  · LanguageModel {model.metadata.name}: needs a GPU, not served here; "
                "Businesses that use it answer with the built-in responder"
            )
        # Bind the sockets first: a port in use is reported before minutes of indexing.
        router_sock = bind(options.host, options.port, "router")
        sites = options.directory / "sites"
        if sites.is_dir():
            self._serve_sites(sites)
        # Ray before ingestion: Ray starts its processes with fork, which LanceDB (loaded by
        # ingestion) warns about.
        self._checkpoint()
        self._start_ray(workspace)
        self._checkpoint()
        self._index_all(workspace)
        self._checkpoint()
        self._start_agents(workspace)
        self._checkpoint()
        self._start_router(workspace, router_sock)
        self._write_state(workspace)
        self._summary(workspace)
        self._checkpoint()

    def _serve_sites(self, sites: Path) -> None:
        from starlette.applications import Starlette
        from starlette.routing import Mount
        from starlette.staticfiles import StaticFiles

        app = Starlette(routes=[Mount("/", app=StaticFiles(directory=sites, html=True))])
        sock = bind("127.0.0.1", self.options.sites_port, "local web sites")
        server = BackgroundServer(app, sock, "sites").start()
        self.servers.append(server)
        self.say(f"  · {sites} served at {server.url}/")

    def _index_all(self, workspace: Workspace) -> None:
        from agent_runtime.knowledge import REVISION_FILE
        from ingestion.job import quiet_http_logs
        from ingestion.refresh import Refresh, refresh_business
        from ingestion.settings import IngestionSettings
        from ingestion.sources import Places

        quiet_http_logs()
        index_root = self.state_dir / "index"
        workspace.write_config_maps(self.state_dir / "configmaps")
        status = _load_json(self.state_dir / "index-status.json")
        # Its own sites are served on 127.0.0.1 (`_serve_sites`): loopback is opened for
        # them; cloud metadata and link-local addresses stay closed.
        settings = IngestionSettings(allow_loopback=True)
        for tenant in workspace.tenants:
            revision = knowledge_revision(
                tenant.business.spec, files_digest(tenant) + config_digest(workspace, tenant)
            )
            marker = tenant_index(index_root, tenant) / REVISION_FILE
            recorded = marker.read_text().strip() if marker.is_file() else ""
            clean = not status.get(tenant.key, {}).get("failed")
            if recorded == revision and clean and not self.options.refresh:
                self.indexes[tenant.key] = IndexOutcome(reused=True, revision=revision)
                self.say(f"  · {tenant.key}: knowledge unchanged, index reused")
                continue
            self._checkpoint()
            self.say(f"  · {tenant.key}: indexing its knowledge")
            refresh = Refresh(
                index_root=index_root,
                places=Places(tenant.base_dir, self.config_map_dir(tenant)),
                settings=settings,
            )
            report = refresh_business(tenant.business, refresh)
            for line in report.render().splitlines():
                self.say(f"    {line}")
            failures = [f"{item.source}: {'; '.join(item.failures)}" for item in report.failed]
            outcome = IndexOutcome(False, revision, failures, report.error)
            if report.error is None:
                marker.parent.mkdir(parents=True, exist_ok=True)
                marker.write_text(revision)
            self.indexes[tenant.key] = outcome
            status[tenant.key] = {"failed": bool(failures or report.error)}
        write_private(self.state_dir / "index-status.json", json.dumps(status, indent=2))

    def _start_ray(self, workspace: Workspace) -> None:
        import ray
        from ray import serve

        options = self.options
        # Agents answer anyone who reaches them (in a cluster a NetworkPolicy admits only the
        # router): Serve's HTTP proxy listens on loopback whatever --host says, and so do
        # Ray's own ports (keep_ray_on_loopback), which also refuse callers without the
        # cluster's token.
        port = options.agent_port or free_port(LOOPBACK)
        # Ray's workers inherit this process's environment: LLM keys named in .env files
        # must be in it before Ray starts.
        for name, value in self._llm_keys(workspace).items():
            os.environ.setdefault(name, value)
        os.environ.setdefault("KATHA_AGENT_LOG_FORMAT", "json")
        os.environ.setdefault("LANCE_LOG", "error")
        # Agents re-index in Ray workers: they fetch this machine's own sites on 127.0.0.1 too.
        os.environ["KATHA_INGEST_ALLOW_LOOPBACK"] = "true"
        self.say(f"  · starting Ray and Serve on {LOOPBACK}:{port}")
        logging.getLogger("ray").setLevel(logging.WARNING)
        logging.getLogger("ray.serve").setLevel(logging.WARNING)
        cpus = max(os.cpu_count() or 1, len(workspace.tenants))
        ray.init(
            num_cpus=cpus,
            include_dashboard=False,
            log_to_driver=False,
            namespace="katha-up",
            configure_logging=False,
        )
        self.ray_started = True
        serve.start(http_options={"host": LOOPBACK, "port": port})
        self.agents_url = f"http://{LOOPBACK}:{port}"

    def _start_agents(self, workspace: Workspace) -> None:
        from ray import serve

        from agent_runtime.serve_app import build_app

        options = self.options
        for tenant in workspace.tenants:
            args = self.app_args(tenant)
            serve.run(
                build_app(args.model_dump(mode="json", by_alias=True)),
                name=tenant.app_name,
                route_prefix=tenant.route_prefix,
                blocking=False,
            )
        deadline = time.monotonic() + options.ready_timeout
        with httpx.Client(timeout=10) as client:
            for tenant in workspace.tenants:
                endpoint = self.agents_url + tenant.route_prefix
                while True:
                    try:
                        if client.get(f"{endpoint}/readyz").status_code == 200:
                            break
                    except httpx.HTTPError:
                        pass
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"{tenant.key}: the agent did not become ready")
                    time.sleep(0.25)
                self.stats[tenant.key] = IndexStats.model_validate(
                    client.get(f"{endpoint}/v1/index").json()
                )
                self.say(f"  · {tenant.key}: agent ready")

    def app_args(self, tenant: LocalTenant) -> AgentAppArgs:
        outcome = self.indexes.get(tenant.key)
        return AgentAppArgs(
            tenant=tenant.key,
            business=tenant.business.spec,
            index_dir=str(self.state_dir / "index"),
            llm=_llm(tenant),
            knowledge_revision=outcome.revision if outcome else "",
            knowledge_dir=str(tenant.base_dir),
            configmap_dir=str(self.config_map_dir(tenant)),
        )

    def config_map_dir(self, tenant: LocalTenant) -> Path:
        return self.state_dir / "configmaps" / tenant.namespace

    def _llm_keys(self, workspace: Workspace) -> dict[str, str]:
        keys: dict[str, str] = {}
        env = read_env_file(workspace.directory / ".env")
        for tenant in workspace.tenants:
            llm = _llm(tenant)
            if llm is not None and llm.api_key_env:
                tenant_env = {**env, **read_env_file(tenant.base_dir / ".env")}
                if llm.api_key_env in tenant_env:
                    keys[llm.api_key_env] = tenant_env[llm.api_key_env]
        return keys

    def _start_router(self, workspace: Workspace, router_sock: Any) -> None:
        from router.app import create_app
        from router.settings import RouterSettings

        self.outbox = Outbox(self.state_dir / "outbox.db")
        live = frozenset(tenant.phone_number_id for tenant in workspace.tenants if tenant.live)
        graph_app = create_graph_app(self.outbox, live, on_message=self._show)
        graph = BackgroundServer(graph_app, bind("127.0.0.1", 0, "local Graph API"), "graph")
        self.servers.append(graph.start())
        routes_file = self.state_dir / "routes.json"
        table = RoutingTable(routes=[self.route(tenant) for tenant in workspace.tenants])
        documents = [json.loads(route_document(route)) for route in table.routes]
        write_private(routes_file, json.dumps({"routes": documents}, indent=2))
        settings = RouterSettings(
            host=self.options.host,
            port=router_sock.getsockname()[1],
            routes_file=routes_file,
            inbox_url=f"sqlite:///{self.state_dir / 'router' / 'inbox.db'}",
            graph_api_url=f"{graph.url}/{GRAPH_VERSION}",
            log_level=self.options.log_level,
            reply_tracking=True,  # what `katha chat` shows: language, intent, sources
            handoff_timeout_seconds=LOCAL_HANDOFF_SECONDS,
        )
        router = BackgroundServer(create_app(settings), router_sock, "router")
        self.servers.append(router.start())
        self.router_url = router.url
        self.graph_url = graph.url
        with httpx.Client(timeout=5) as client:
            deadline = time.monotonic() + 30
            while client.get(f"{router.url}/readyz").status_code != 200:
                if time.monotonic() > deadline:
                    raise RuntimeError("the router did not become ready")
                time.sleep(0.1)

    def route(self, tenant: LocalTenant) -> Route:
        handoff = tenant.business.spec.handoff
        return Route(
            phone_number_id=tenant.phone_number_id,
            tenant=tenant.key,
            endpoint=self.agents_url + tenant.route_prefix,
            credentials=tenant.credentials,
            owner_number=handoff.owner_number if handoff.enabled else None,
        )

    def _write_state(self, workspace: Workspace) -> None:
        state = UpState(
            pid=os.getpid(),
            directory=str(workspace.directory),
            router_url=self.router_url,
            graph_url=self.graph_url,
            agents_url=self.agents_url,
            tenants=[
                TenantInfo(
                    key=tenant.key,
                    display_name=tenant.display_name,
                    phone_number_id=tenant.phone_number_id,
                    business_account_id=tenant.business.spec.whatsapp.business_account_id,
                    app_secret=tenant.credentials.app_secret.get_secret_value(),
                    live=tenant.live,
                    owner_number=self.route(tenant).owner_number,
                    samples=_samples(tenant),
                )
                for tenant in workspace.tenants
            ],
        )
        write_private(self.state_dir / STATE_FILE, state.model_dump_json(indent=2))
        self._wrote_state = True
        self._starting = False

    def _summary(self, workspace: Workspace) -> None:
        self.say("")
        self.say(f"Router: {self.router_url}   (Ctrl-C stops everything)")
        for tenant in workspace.tenants:
            stats = self.stats.get(tenant.key)
            outcome = self.indexes.get(tenant.key)
            index = (
                f"{stats.state}, {stats.chunks} chunks from {stats.documents} documents, "
                f"version {stats.index_version}"
                if stats
                else "unknown"
            )
            if outcome and outcome.reused:
                index += " (reused)"
            if outcome and (outcome.failures or outcome.error):
                index += f"; {len(outcome.failures)} source(s) failed"
            verify = tenant.credentials.verify_token.get_secret_value()
            self.say(f"\n{tenant.key}  {tenant.display_name}")
            self.say(f"  webhook URL   {self.router_url}/webhooks/whatsapp")
            self.say(f"  verify token  {verify}")
            self.say(f"  number ID     {tenant.phone_number_id}")
            self.say(f"  index         {index}")
            self.say(f"  answers       {_responder(tenant, workspace)}")
            self.say(f"  replies       {'Graph API (live)' if tenant.live else 'local outbox'}")
        first = workspace.tenants[0].name
        self.say(f'\nTry:  katha chat {first}    or    katha ask {first} "..."\n')

    def _show(self, message: OutboxMessage) -> None:
        """Replies of local tenants, as the customer's phone would show them. A live
        tenant's replies go to real customers: they are never printed."""
        if not self.options.show_messages or message.text is None or message.forwarded:
            return
        tenant = self._tenant_by_number(message.phone_number_id)
        if tenant is None or tenant.live:
            return
        tracking = message.tracking
        about = f" ({tracking.language}, {len(tracking.sources)} source(s))" if tracking else ""
        to = _masked(message.recipient)
        self.say(f"  → {tenant.key} to {to}{about}: {mask_numbers(message.text)}")

    def _tenant_by_number(self, number: str) -> LocalTenant | None:
        for tenant in self.workspace.tenants if self.workspace else []:
            if tenant.phone_number_id == number:
                return tenant
        return None

    # -- run and stop ------------------------------------------------------------------

    def _catch_signals(self) -> None:
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                signal.signal(signum, self._on_signal)

    def _checkpoint(self) -> None:
        if self._stop.is_set():
            raise StartInterruptedError

    def wait(self) -> bool:
        """Block until Ctrl-C or SIGTERM (True), or until a server thread dies (False)."""
        self._catch_signals()
        while not self._stop.wait(0.5):
            dead = [server.name for server in self.servers if not server.alive()]
            if dead:
                self.say(f"✗ {', '.join(dead)} stopped unexpectedly; shutting down")
                return False
        return True

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self._interrupts += 1
        if not self._stop.is_set():
            self._stop.set()
            if self._starting:
                self.say("  stopping after this step (Ctrl-C again to stop at once)")
            return
        if self._starting and self._interrupts == 2:
            raise KeyboardInterrupt  # out of whatever step is running; stop() cleans up
        if self._interrupts >= FORCE_AFTER_INTERRUPTS:
            self.say("  forced to stop; Ray may leave processes behind (`ray stop` ends them)")
            os._exit(130)
        self.say("  still stopping (Ctrl-C once more to force)")

    def request_stop(self) -> None:
        self._stop.set()

    def stop(self) -> None:
        """Stop in reverse order; each step runs even when an earlier one failed."""
        self._stop.set()
        self._starting = False
        self._catch_signals()
        if self._wrote_state:  # never another `katha up`'s
            (self.state_dir / STATE_FILE).unlink(missing_ok=True)
        for server in reversed(self.servers):
            if server.name == "router":  # drain the router before its agents go away
                server.stop()
        if self.ray_started:
            import ray

            # The router is stopped, so no request is in flight: ending Ray ends every
            # replica with it (serve.shutdown first only adds a noisy retry of its own).
            ray.shutdown()
            self.ray_started = False
        for server in reversed(self.servers):
            server.stop()
        self.servers.clear()
        if self.outbox is not None:
            self.outbox.close()
            self.outbox = None
        if self._lock is not None:
            os.close(self._lock)  # releases the flock
            self._lock = None


class StartInterruptedError(Exception):
    """Ctrl-C or SIGTERM while starting."""


class StateLockedError(RuntimeError):
    pass


def _lock(state_dir: Path) -> int:
    """One `katha up` per state folder: they would share the inbox, outbox and indexes."""
    descriptor = os.open(state_dir / "lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(descriptor)
        raise StateLockedError(
            f"another `katha up` is using {state_dir}; stop it first, or give this one "
            "its own --state-dir"
        ) from None
    return descriptor


def tenant_index(index_root: Path, tenant: LocalTenant) -> Path:
    from ingestion.index.schema import tenant_path

    return tenant_path(index_root, tenant.namespace, tenant.name)


def _llm(tenant: LocalTenant) -> LlmEndpoint | None:
    model = tenant.business.spec.model
    if model is None or model.endpoint is None:
        return None  # a LanguageModel needs a GPU cluster: the built-in responder answers
    endpoint = model.endpoint
    key = endpoint.api_key_secret_ref
    return LlmEndpoint(
        base_url=str(endpoint.base_url),
        model=endpoint.model,
        api_key_env=env_name(key.name, key.key) if key else None,
    )


def _responder(tenant: LocalTenant, workspace: Workspace) -> str:
    model = tenant.business.spec.model
    llm = _llm(tenant)
    if llm is not None:
        return f"LLM {llm.model} at {llm.base_url}"
    if model is not None and model.language_model_ref:
        known = {m.metadata.name for m in workspace.language_models}
        why = "needs a GPU" if model.language_model_ref in known else "not in this folder"
        return f"built-in responder (LanguageModel {model.language_model_ref} {why})"
    return "built-in responder (no LLM configured)"


def _samples(tenant: LocalTenant) -> dict[str, list[str]]:
    """Questions to try per language: the Business's own FAQ questions, by language."""
    from katha.api.knowledge import FaqSource
    from katha.lang import detect_language

    samples: dict[str, list[str]] = {}
    for source in tenant.business.spec.knowledge.sources:
        if isinstance(source, FaqSource):
            for item in source.items or []:
                language = detect_language(item.q).language
                samples.setdefault(str(language), []).append(item.q)
    return samples


def mask_numbers(text: str) -> str:
    """Phone numbers in a message (the owner's handoff notice names the customer's) keep
    their last three digits only."""
    return re.sub(r"\+?\d[\d -]{5,}(\d{3})\b", r"…\1", text)


def _masked(number: str | None) -> str:
    if not number:
        return "?"
    return "…" + number[-3:]


def _load_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        document = json.loads(path.read_text())
    except ValueError:
        return {}
    return document if isinstance(document, dict) else {}


def config_digest(workspace: Workspace, tenant: LocalTenant) -> str:
    """A digest of the ConfigMaps the tenant's sources name: an edited one re-indexes."""
    digest = hashlib.sha256()
    for source in tenant.business.spec.knowledge.sources:
        ref = getattr(source, "config_map_ref", None)
        if ref is not None:
            values = workspace.config_maps.get((tenant.namespace, ref.name), {})
            digest.update(f"{ref.name}/{ref.key}".encode())
            digest.update(values.get(ref.key, b"<missing>"))
    return digest.hexdigest()[:16]
