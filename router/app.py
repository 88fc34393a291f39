"""The router app: `create_app(settings)` wires the inbox, routing table, workers and endpoints."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from katha.observability import get_logger
from katha.store import ConversationStore
from router.agent import AgentClient
from router.agent_admin import AgentAdmin
from router.api import admin, admin_answers, admin_customers, admin_documents, health, webhook
from router.api.fastpath import WebhookFastPath
from router.business_status import LoggedStatusWriter, StatusWriter, status_writer
from router.dispatcher import Dispatcher
from router.graph_api import GraphApiClient
from router.history import History
from router.http import JsonPoster
from router.inbox import open_inbox
from router.inbox.base import Inbox
from router.intake import Intake
from router.limits import TokenBuckets
from router.live_routes import FileRouteSource, LiveRoutes
from router.metrics import RouterMetrics
from router.routes_kubernetes import SecretRouteSource
from router.services import Services
from router.settings import RouterSettings
from router.signals import Signals
from router.worker import Worker

log = get_logger("router")


def create_app(
    settings: RouterSettings,
    *,
    inbox: Inbox | None = None,
    routes: LiveRoutes | None = None,
    status: StatusWriter | None = None,
) -> FastAPI:
    """The router. `inbox` and `routes` default to what `settings` names; `status` (where
    Meta's account signals are written for people) to the Businesses' status when the
    routes come from the cluster, else the log."""
    services = Services(
        settings=settings,
        routes=routes if routes is not None else LiveRoutes(),
        inbox=inbox if inbox is not None else open_inbox(settings),
        metrics=RouterMetrics(),
    )
    services.routes.count_into(services.metrics.metrics)
    agents = services.agents = AgentAdmin(services.routes, settings.agent_timeout_seconds)

    if status is None:
        status = status_writer(settings) if routes is None else LoggedStatusWriter()
    intake = Intake(services, status=status)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with _running(services, watch_routes=routes is None, signals=intake.signals):
            yield
        await intake.signals.aclose()
        await agents.aclose()

    app = FastAPI(title="Katha router", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.services = services
    app.include_router(webhook.router)
    app.include_router(health.router)
    app.include_router(admin.router)
    app.include_router(admin_documents.router)
    app.include_router(admin_answers.router)
    app.include_router(admin_customers.router)
    app.state.intake = intake
    app.add_middleware(WebhookFastPath, intake=intake)
    return app


@contextlib.asynccontextmanager
async def _running(
    services: Services, *, watch_routes: bool, signals: Signals
) -> AsyncIterator[None]:
    settings = services.settings
    tasks: list[asyncio.Task[None]] = []

    def spawn(coroutine: Coroutine[Any, Any, None], name: str) -> None:
        tasks.append(asyncio.create_task(coroutine, name=name))

    http = httpx.AsyncClient(
        timeout=settings.graph_timeout_seconds,
        limits=httpx.Limits(max_connections=settings.total_concurrency * 2),
    )
    poster = JsonPoster(settings.total_concurrency * 2, settings.graph_timeout_seconds)
    try:
        if watch_routes:
            spawn(_watch_routes(settings, services.routes), "routes")
        spawn(_start_inbox(services, http, poster, spawn), "inbox")
        spawn(_report_inbox(services), "inbox-stats")
        spawn(_report_accounts(services, signals), "account-gauges")
        yield
    finally:
        services.started = False
        await _stop(tasks, [http.aclose, poster.aclose], services.inbox, services.history)


# Each step of stopping gets this long: a router must be gone within Kubernetes' grace
# period whatever hangs (messages are safe in the inbox), and the log says what did.
STOP_STEP_SECONDS = 3.0


async def _stop(
    tasks: list[asyncio.Task[None]],
    clients: list[Callable[[], Awaitable[None]]],
    inbox: Inbox,
    history: History | None = None,
) -> None:
    for task in tasks:
        task.cancel()
    if tasks:
        _, pending = await asyncio.wait(tasks, timeout=STOP_STEP_SECONDS)
        if pending:
            log.error("router.tasks_not_stopped", tasks=sorted(t.get_name() for t in pending))
    steps = [*(("http", close) for close in clients), ("inbox", inbox.close)]
    if history is not None:  # bounded inside: it waits CLOSE_SECONDS for the store at most
        steps.insert(0, ("history", history.aclose))
    for name, step in steps:
        try:
            async with asyncio.timeout(STOP_STEP_SECONDS):
                await step()
        except TimeoutError:
            log.error("router.close_timed_out", step=name)
    log.info("router.stopped")


async def _start_inbox(
    services: Services,
    http: httpx.AsyncClient,
    poster: JsonPoster,
    spawn: Callable[[Coroutine[Any, Any, None], str], None],
) -> None:
    """Open the inbox, retrying while it is unreachable; until then /readyz says no and
    webhooks get 503 (Meta retries them), rather than the process crash-looping."""
    settings = services.settings
    delay = 0.2
    while True:
        try:
            await services.inbox.open()
            key = settings.pseudonym_key
            services.conversation_key = (
                key.get_secret_value().encode() if key else await services.inbox.secret_key()
            )
            break
        except Exception:
            log.exception("inbox.unavailable", retry_seconds=delay)
            await services.inbox.close()
            await asyncio.sleep(delay)
            delay = min(10.0, delay * 2)
    if settings.store_url is not None:
        try:
            store = ConversationStore.from_url(settings.store_url.get_secret_value())
        except Exception as error:  # customers are answered all the same; the log says why
            log.error("history.store_unusable", reason=type(error).__name__)
        else:
            services.history = History(store, services.metrics, settings.history_max_pending)
            spawn(services.history.run(), "history")
            spawn(_apply_retention(services, services.history), "history-retention")
    if settings.workers_enabled:
        services.dispatcher = _dispatcher(services, http, poster)
        spawn(services.dispatcher.run(), "dispatcher")
    services.started = True
    log.info("router.started", workers=settings.workers_enabled)


def _dispatcher(services: Services, http: httpx.AsyncClient, poster: JsonPoster) -> Dispatcher:
    settings = services.settings
    graph = GraphApiClient(
        http,
        settings.graph_api_url,
        poster=poster,
        per_number=TokenBuckets(settings.number_rate_per_second, settings.number_rate_per_second),
        per_recipient=TokenBuckets(settings.recipient_rate_per_second, settings.recipient_burst),
        max_attempts=settings.graph_max_attempts,
        backoff_seconds=settings.retry_base_seconds / 2,
        max_backoff_seconds=settings.retry_max_seconds,
    )
    services.graph = graph  # the console's replies and login codes share its pacing
    agent = AgentClient(poster, settings.agent_timeout_seconds)
    worker = Worker(
        settings,
        services.inbox,
        services.routes,
        agent,
        graph,
        services.metrics,
        services.conversation_key,
        services.history,
    )
    return Dispatcher(
        services.inbox,
        worker,
        tenant_concurrency=settings.tenant_concurrency,
        total_concurrency=settings.total_concurrency,
        idle_poll_seconds=settings.idle_poll_seconds,
    )


async def _watch_routes(settings: RouterSettings, live_routes: LiveRoutes) -> None:
    if settings.routes_file is not None:
        source = FileRouteSource(
            Path(settings.routes_file), live_routes, settings.routes_poll_seconds
        )
        await source.run()
        return
    secret = SecretRouteSource.in_cluster(settings, live_routes)
    try:
        await secret.run()
    finally:
        await secret.aclose()


async def _report_inbox(services: Services) -> None:
    while True:
        if not services.started:
            await asyncio.sleep(0.2)
            continue
        try:
            stats = await services.inbox.stats()
        except Exception:
            log.exception("inbox.stats_failed")
        else:
            services.metrics.inbox_depth.set(stats.depth)
            services.metrics.inbox_age.set(stats.oldest_age_seconds)
        await asyncio.sleep(1.0)


# Restrictions expire and other replicas learn of new ones: the gauges are set again this
# often from the state every replica shares.
ACCOUNT_GAUGES_SECONDS = 15.0


async def _report_accounts(services: Services, signals: Signals) -> None:
    while True:
        if services.started:
            try:
                await signals.refresh_gauges()
            except Exception:
                log.exception("accounts.gauges_failed")
        await asyncio.sleep(ACCOUNT_GAUGES_SECONDS if services.started else 0.2)


RETENTION_EVERY_SECONDS = 3600.0


async def _apply_retention(services: Services, history: History) -> None:
    """Hourly: conversations past their Business's retention period leave the store (every
    replica does it; deleting what is already gone costs a query)."""
    while True:
        try:
            gone = await history.forget_expired(list(services.routes.table.routes))
        except Exception as error:
            log.warning("history.retention_failed", reason=type(error).__name__)
        else:
            if gone:
                log.info("history.forgotten", events=gone)
        await asyncio.sleep(RETENTION_EVERY_SECONDS)
