"""The Ray Serve application: `agent_runtime.serve_app:build_app`, one builder for every tenant.

The operator's Serve config names this builder with the tenant's `AgentAppArgs`; it
validates them and binds one FastAPI ingress deployment, scaled by the Business's
scaling settings. Each replica loads the embedding model once, opens the index, and
re-ingests (as a Ray task) when the index is missing or from another knowledge revision.
"""

import os
from typing import TYPE_CHECKING, Any

import ray
from ray import serve
from ray.serve import Application

from agent_runtime.heap import QuietTrimmer, find_malloc_trim
from agent_runtime.settings import AgentSettings
from ingestion.index.location import index_location
from ingestion.places import Places
from ingestion.report import Report
from ingestion.settings import IngestionSettings
from katha.contracts.serving import AgentAppArgs
from katha.observability import configure_logging

# The agent itself (its graph, LanceDB, the embedder) is imported by each replica when it
# starts, not with this module: `katha up` imports the module only to bind applications.
if TYPE_CHECKING:
    from fastapi import FastAPI

    from agent_runtime.knowledge import Refresher

DEPLOYMENT_NAME = "Agent"
# glibc gives each thread that allocates its own 64 MiB arena; a replica's request threads
# (Serve's pool, LanceDB's and the embedder's) left about 100 MiB of freed memory resident
# after 50 questions over a 5,000-chunk index (bench/replica_memory.py). Two arenas share
# it instead; the price is more contention on malloc's locks, small next to the GIL that
# already serialises the Python side. glibc reads it when the process starts, hence the
# replica's environment (Ray merges these variables with the application's).
REPLICA_ENV = {"env_vars": {"MALLOC_ARENA_MAX": "2"}}


@serve.ingress()
class AgentDeployment:
    """One replica: the model, the index reader and the graph, loaded once."""

    def __init__(self, args: dict[str, Any]) -> None:
        from agent_runtime.agent import Agent
        from ingestion.embedding import embedder_from_settings

        # Lance logs a deprecation warning on every search; keep replica logs readable.
        os.environ.setdefault("LANCE_LOG", "error")
        settings = AgentSettings()
        configure_logging(settings.log_level, settings.log_format.value)
        app_args = AgentAppArgs.model_validate(args)
        # Indexing runs in a Ray task of its own: this replica's model embeds questions only.
        embedder = embedder_from_settings(IngestionSettings(), threads=settings.query_threads)
        refresher = ray_refresher(app_args, settings)
        self.agent: Agent = Agent(app_args, settings, embedder=embedder, refresher=refresher)
        self.agent.start()
        # A quiet replica gives back what glibc kept of the last burst (agent_runtime.heap).
        trims = self.agent.metrics.heap_trims
        self.trimmer = QuietTrimmer(find_malloc_trim(), on_trim=trims.inc).start()

    def __serve_build_asgi_app__(self) -> "FastAPI":
        from agent_runtime.api.app import create_app

        return create_app(self.agent)

    def __del__(self) -> None:
        # Serve calls this when it stops a replica: release the Postgres pool or SQLite.
        trimmer, agent = getattr(self, "trimmer", None), getattr(self, "agent", None)
        try:
            if trimmer is not None:
                trimmer.stop()
        finally:
            if agent is not None:
                agent.close()


def build_app(args: dict[str, Any]) -> Application:
    """Validate the tenant's args and bind its ingress deployment."""
    app_args = AgentAppArgs.model_validate(args)
    scaling = app_args.business.scaling
    settings = AgentSettings()
    deployment: Any = serve.deployment(AgentDeployment)
    deployment = deployment.options(
        name=DEPLOYMENT_NAME,
        autoscaling_config={
            "min_replicas": scaling.min_replicas,
            "max_replicas": scaling.max_replicas,
            "target_ongoing_requests": scaling.target_ongoing_requests,
        },
        max_ongoing_requests=scaling.max_ongoing_requests,
        ray_actor_options={"num_cpus": settings.replica_cpus, "runtime_env": REPLICA_ENV},
        health_check_period_s=10,
        # A replica being stopped looks for requests still running this often (Serve's
        # default is every 2 s): a redeploy's old replica frees its CPU sooner.
        graceful_shutdown_wait_loop_s=0.5,
    )
    application: Application = deployment.bind(app_args.model_dump(mode="json", by_alias=True))
    return application


@ray.remote(num_cpus=0)
def _ingest(args: dict[str, Any], places: Places) -> Report:
    # In the task's own worker: the replica that asks never imports the parsers.
    from agent_runtime.agent import business_of
    from ingestion.refresh import Refresh, refresh_business

    app_args = AgentAppArgs.model_validate(args)
    refresh = Refresh(
        index_root=index_location(app_args.index_dir),
        places=places,
        settings=IngestionSettings(),
        progress=False,
    )
    return refresh_business(business_of(app_args), refresh)


def ray_refresher(args: AgentAppArgs, settings: AgentSettings) -> "Refresher":
    """Ingestion as a Ray task beside the replicas; the replica's thread waits for it."""
    from agent_runtime.agent import places_of

    payload = args.model_dump(mode="json", by_alias=True)
    places = places_of(args, settings)

    def run() -> Report:
        report: Report = ray.get(_ingest.remote(payload, places))
        return report

    return run
