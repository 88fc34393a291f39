"""The agents of `katha up`: a local Ray instance with one Serve application per Business,
built by the same `build_app` the operator names in a cluster."""

import inspect
import logging
import os
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from katha.api.media import MediaModel
from katha.contracts.serving import AgentAppArgs, IndexStats, LlmEndpoint
from katha_cli.local import Say
from katha_cli.local.credentials import env_name, read_env_file
from katha_cli.local.indexing import IndexOutcome, config_map_dir
from katha_cli.local.router_process import proxy_endpoints
from katha_cli.local.servers import free_port
from katha_cli.local.workspace import LocalTenant, Workspace

LOOPBACK = "127.0.0.1"

# Serve's direct ingress: each agent replica answers HTTP on a port of its own (from
# 30000-31000, on loopback like every port here) besides taking requests through Serve's
# HTTP proxy. The router then posts to the replica itself while its application has one
# running replica (agent_endpoints), which saves the proxy's hop and the replica's actor
# call back to the proxy for each request's body: Katha's CPU per reply fell from 28 to
# 15 ms at concurrency 16 (bench/one_machine.py, docs/cost.md). RAY_SERVE_ENABLE_DIRECT_INGRESS=0
# in the environment turns it off. A replica being replaced keeps answering for
# RAY_SERVE_DIRECT_INGRESS_MIN_DRAINING_PERIOD_S after Serve stops it,
# long enough for the router to be told of its successor (AgentEndpoints polls every
# second, the router reads its routing file every half second); Serve's default, 30 s,
# is meant for cloud load balancers and would hold a replica's CPU through each redeploy.
DIRECT_INGRESS = {
    "RAY_SERVE_ENABLE_DIRECT_INGRESS": "1",
    "RAY_SERVE_DIRECT_INGRESS_MIN_DRAINING_PERIOD_S": "3",
}


def keep_ray_on_loopback() -> None:
    """One machine is not a Ray cluster. Without this, Ray takes the machine's address as
    the node's and binds its gRPC ports and its Prometheus exporters to every interface;
    with it, every Ray port listens on loopback (on Linux too). Ray reads it when first
    imported, so call this before anything imports Ray."""
    os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")


def serve_port(agent_port: int) -> int:
    # Agents answer anyone who reaches them (in a cluster a NetworkPolicy admits only the
    # router): Serve's HTTP proxy listens on loopback whatever --host says, and so do
    # Ray's own ports (keep_ray_on_loopback), which also refuse callers without the
    # cluster's token.
    return agent_port or free_port(LOOPBACK)


def start_ray(workspace: Workspace, port: int, say: Say) -> None:
    """Start a local Ray instance whose workers can reach what the agents need."""
    import ray

    # Ray's workers inherit this process's environment: LLM keys named in .env files
    # must be in it before Ray starts.
    for name, value in llm_keys(workspace).items():
        os.environ.setdefault(name, value)
    os.environ.setdefault("KATHA_AGENT_LOG_FORMAT", "json")
    # Every Ray process (the Serve controller and proxy too) then keeps two malloc arenas
    # instead of one per thread: see agent_runtime.serve_app.REPLICA_ENV.
    os.environ.setdefault("MALLOC_ARENA_MAX", "2")
    os.environ.setdefault("LANCE_LOG", "error")
    for name, value in DIRECT_INGRESS.items():
        os.environ.setdefault(name, value)
    # Agents re-index in Ray workers: they fetch this machine's own sites on 127.0.0.1 too.
    os.environ["KATHA_INGEST_ALLOW_LOOPBACK"] = "true"
    say(f"  · starting Ray and Serve on {LOOPBACK}:{port}")
    logging.getLogger("ray").setLevel(logging.WARNING)
    logging.getLogger("ray.serve").setLevel(logging.WARNING)
    cpus = max(os.cpu_count() or 1, len(workspace.tenants))
    with without_cluster_helpers():
        ray.init(
            num_cpus=cpus,
            include_dashboard=False,
            log_to_driver=False,
            namespace="katha-up",
            configure_logging=False,
        )


@contextmanager
def without_cluster_helpers() -> Iterator[None]:
    """While `ray.init` starts a local instance, start it without the autoscaler's monitor
    (one machine has no nodes to add), without the log monitor (no driver reads the
    workers' output: `log_to_driver=False`) and without the dashboard's API server (nothing
    here submits jobs, deploys Serve over REST or reads the state API: `serve.run` talks to
    the Serve controller directly), about 250 MiB of Python processes. `ray.init` offers
    none of these switches, though its node parameters take the first two (`ray start
    --head` has them as --no-monitor and --include-log-monitor); a head whose API server
    does not start is one Ray itself runs on when that server fails (`include_dashboard`
    unset). `ray.shutdown` still stops every process it started."""
    from ray._private import node, parameter

    original = getattr(parameter, "RayParams", None)
    wanted = {"no_monitor", "include_log_monitor"}
    start_api_server = getattr(node.Node, "start_api_server", None)
    if (
        original is None
        or start_api_server is None
        or not wanted <= set(inspect.signature(original).parameters)
    ):
        yield  # another Ray release: start it as it comes (tests/one_machine notices)
        return

    class LeanParams(original):  # type: ignore[misc,valid-type]
        def __init__(self, **options: Any) -> None:
            super().__init__(**{**options, "no_monitor": True, "include_log_monitor": False})

    def no_api_server(self: Any, **_: Any) -> None:
        """The head's web UI address stays None, as when the server fails to start."""

    # ray.init looks the class up in its module each time it is called.
    setattr(parameter, "RayParams", LeanParams)  # noqa: B010 (mypy refuses assigning a type)
    setattr(node.Node, "start_api_server", no_api_server)  # noqa: B010
    try:
        yield
    finally:
        setattr(parameter, "RayParams", original)  # noqa: B010
        setattr(node.Node, "start_api_server", start_api_server)  # noqa: B010


def start_serve(port: int) -> str:
    """Start Serve's HTTP proxy on loopback; returns its URL."""
    from ray import serve

    serve.start(http_options={"host": LOOPBACK, "port": port})
    return f"http://{LOOPBACK}:{port}"


def agent_endpoints(
    workspace: Workspace, agents_url: str, client: httpx.Client | None = None
) -> dict[str, str]:
    """Where the router reaches each tenant's agent: its replica's own HTTP server while its
    application has exactly one running replica, else Serve's proxy at `agents_url`, which
    balances several replicas and holds requests while none runs. Both serve the same
    FastAPI app under the tenant's route prefix.

    `client` asks the replicas whether they are healthy; whoever looks every second keeps
    one (a new httpx client loads the system's CA certificates, about 20 ms of CPU)."""
    endpoints = proxy_endpoints(workspace, agents_url)
    proxy_port = urlsplit(agents_url).port
    replicas = _replica_addresses()
    if not replicas:
        return endpoints
    with ExitStack() as stack:
        if client is None:
            client = stack.enter_context(health_client())
        for tenant in workspace.tenants:
            addresses = replicas.get(tenant.app_name, [])
            if len(addresses) == 1 and addresses[0][1] != proxy_port:
                host, port = addresses[0]
                if _answers(client, host, port):
                    endpoints[tenant.key] = f"http://{host}:{port}{tenant.route_prefix}"
    return endpoints


def health_client() -> httpx.Client:
    """The client agent_endpoints asks replicas with: plain HTTP on loopback, half a second."""
    return httpx.Client(timeout=0.5, trust_env=False)


def _answers(client: httpx.Client, host: str, port: int) -> bool:
    """Whether the replica's own server says it is healthy. Serve's controller learns of a
    crashed replica only at its next health check (every 10 s), and a replica that is
    being stopped answers 503 while it drains: either way its messages go to the proxy,
    which holds them until a replica runs."""
    try:
        return client.get(f"http://{host}:{port}/-/healthz").status_code == 200
    except httpx.HTTPError:
        return False


def _replica_addresses() -> dict[str, list[tuple[str, int]]]:
    """(host, port) of each application's running ingress replicas, as Serve's controller
    hands them to a load balancer in front of direct ingress; an application with none is
    given the proxy's address. Empty when direct ingress is off, or when this Ray release
    has no such call (the proxy then takes every request)."""
    if os.environ.get("RAY_SERVE_ENABLE_DIRECT_INGRESS") != "1":
        return {}
    import ray
    from ray.serve.context import _get_global_client

    try:
        client = _get_global_client(raise_if_no_controller_running=False)
        if client is None:
            return {}
        groups = ray.get(client._controller.get_target_groups.remote(), timeout=5)
        return {
            group.app_name: [(target.ip, target.port) for target in group.targets]
            for group in groups
            if group.protocol == "HTTP"
        }
    except Exception as error:  # a Ray without it, a controller restarting
        logging.getLogger(__name__).debug("no replica addresses: %s", error)
        return {}


def stop_ray() -> None:
    import ray

    # The router is stopped, so no request is in flight: ending Ray ends every
    # replica with it (serve.shutdown first only adds a noisy retry of its own).
    ray.shutdown()


def start_agents(
    workspace: Workspace,
    agents_url: str,
    args_of: Callable[[LocalTenant], AgentAppArgs],
    ready_timeout: float,
    say: Say,
) -> dict[str, IndexStats]:
    """Run one Serve application per tenant and wait until each is ready; returns what
    each one's index holds."""
    for tenant in workspace.tenants:
        _run_app(tenant, args_of(tenant))
    stats: dict[str, IndexStats] = {}
    deadline = time.monotonic() + ready_timeout
    with httpx.Client(timeout=10) as client:
        for tenant in workspace.tenants:
            stats[tenant.key] = _ready_stats(client, agents_url + tenant.route_prefix, deadline)
            say(f"  · {tenant.key}: agent ready")
    return stats


def redeploy_agent(
    tenant: LocalTenant, args: AgentAppArgs, agents_url: str, ready_timeout: float
) -> IndexStats:
    """Deploy the tenant's Serve application again with `args` (a changed Business, a new
    index version) and wait until it answers. Serve replaces every replica even when
    `args` did not change (an application built without a version gets a new one each
    time), which is how a replica opens the index version written beside the one it
    had; a message arriving meanwhile waits in the router's inbox as it does for any
    agent that is briefly away."""
    _run_app(tenant, args)
    deadline = time.monotonic() + ready_timeout
    with httpx.Client(timeout=10) as client:
        return _ready_stats(client, agents_url + tenant.route_prefix, deadline)


def _run_app(tenant: LocalTenant, args: AgentAppArgs) -> None:
    """Deploy the tenant's application; returns once Serve says it runs."""
    from ray import serve

    from agent_runtime.serve_app import build_app

    # Importing Serve sets its logger to INFO: each (re)deployment would print lines.
    logging.getLogger("ray.serve").setLevel(logging.WARNING)
    serve.run(
        build_app(args.model_dump(mode="json", by_alias=True)),
        name=tenant.app_name,
        route_prefix=tenant.route_prefix,
        blocking=False,
    )


def _ready_stats(client: httpx.Client, endpoint: str, deadline: float) -> IndexStats:
    """Wait until the agent at `endpoint` is ready; what its index holds."""
    while True:
        try:
            if client.get(f"{endpoint}/readyz").status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            tenant = "/".join(endpoint.rsplit("/", 2)[-2:])
            raise RuntimeError(f"{tenant}: the agent did not become ready")
        time.sleep(0.25)
    return IndexStats.model_validate(client.get(f"{endpoint}/v1/index").json())


def app_args(tenant: LocalTenant, state_dir: Path, outcome: IndexOutcome | None) -> AgentAppArgs:
    """The serving args the operator would give this tenant's agent, for this machine."""
    return AgentAppArgs(
        tenant=tenant.key,
        business=tenant.business.spec,
        index_dir=str(state_dir / "index"),
        llm=llm_endpoint(tenant),
        voice=media_endpoint(tenant.business.spec.voice),
        vision=media_endpoint(tenant.business.spec.vision),
        knowledge_revision=outcome.revision if outcome else "",
        knowledge_dir=str(tenant.base_dir),
        configmap_dir=str(config_map_dir(state_dir, tenant)),
    )


def llm_endpoint(tenant: LocalTenant) -> LlmEndpoint | None:
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


def media_endpoint(wanted: MediaModel | None) -> LlmEndpoint | None:
    """The endpoint that reads voice notes (spec.voice) or photos (spec.vision), as in a
    cluster; a LanguageModel needs a GPU cluster, so without an endpoint a person does."""
    if wanted is None or wanted.endpoint is None:
        return None
    endpoint = wanted.endpoint
    key = endpoint.api_key_secret_ref
    return LlmEndpoint(
        base_url=str(endpoint.base_url),
        model=endpoint.model,
        api_key_env=env_name(key.name, key.key) if key else None,
    )


def llm_keys(workspace: Workspace) -> dict[str, str]:
    """The API keys the tenants' answer, voice and vision endpoints name, from the folder's
    and their own .env files."""
    keys: dict[str, str] = {}
    env = read_env_file(workspace.directory / ".env")
    for tenant in workspace.tenants:
        spec = tenant.business.spec
        endpoints = (llm_endpoint(tenant), media_endpoint(spec.voice), media_endpoint(spec.vision))
        tenant_env = {**env, **read_env_file(tenant.base_dir / ".env")}
        for endpoint in endpoints:
            if endpoint is not None and endpoint.api_key_env in tenant_env:
                keys[endpoint.api_key_env] = tenant_env[endpoint.api_key_env]
    return keys
