"""The console app: `create_app(settings)` wires the store, the router's admin API, the
sign-in and the conversation pages and API."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import datetime

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from console.answers.routes import router as answers_router
from console.auth.routes import router as auth_router
from console.businesses import Businesses
from console.businesses.kubernetes import KubernetesBusinesses
from console.conversations.live import StreamSlots
from console.conversations.routes import router as conversations_router
from console.customers.routes import router as customers_router
from console.housekeeping import keep_tidy, tidy
from console.insights.routes import router as insights_router
from console.knowledge.routes import router as knowledge_router
from console.router_client import RouterAdmin
from console.security import PageHeaders, same_site_path
from console.services import ConsoleServices, utc_now
from console.settings import ConsoleSettings
from console.setup.routes import router as setup_router
from console.web import HERE, LANGUAGE_COOKIE, LANGUAGES, render
from katha.observability import Metrics
from katha.store import ConversationStore

API_PREFIX = "/api/v1"


def create_app(
    settings: ConsoleSettings,
    *,
    store: ConversationStore | None = None,
    router: RouterAdmin | None = None,
    businesses: Businesses | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> FastAPI:
    """The console. `store` and `router` default to what `settings` names; `businesses`
    (where Businesses are read and changed) to the Kubernetes API when `settings.businesses`
    says so, else none (`katha up` passes the Business files on one machine)."""
    if store is None:
        if settings.store_url is None:
            raise ValueError(
                "the console needs the conversation store: set KATHA_CONSOLE_STORE_URL"
            )
        store = ConversationStore.from_url(settings.store_url.get_secret_value())
    if router is None:
        token = settings.router_admin_token
        if token is None:
            raise ValueError(
                "the console needs the router's admin token: KATHA_CONSOLE_ROUTER_ADMIN_TOKEN"
            )
        router = RouterAdmin.connect(settings.router_url, token.get_secret_value())
    if businesses is None and settings.businesses == "kubernetes":
        businesses = KubernetesBusinesses.connect(settings.kubernetes_api_url)
    services = ConsoleServices(
        settings=settings, store=store, router=router, clock=clock, businesses=businesses
    )
    metrics = Metrics("console")

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await tidy(services)
        tidying = asyncio.create_task(keep_tidy(services), name="console-cleanup")
        try:
            yield
        finally:
            tidying.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await tidying
            await services.router.aclose()
            if services.businesses is not None:
                await services.businesses.aclose()
            await services.store.close()

    app = FastAPI(
        title="Katha owner console",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=f"{API_PREFIX}/openapi.json",
    )
    app.state.services = services
    app.state.metrics = metrics
    app.state.stream_slots = StreamSlots()
    app.add_middleware(PageHeaders)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(auth_router)
    app.include_router(conversations_router)
    app.include_router(insights_router)
    app.include_router(knowledge_router)
    app.include_router(answers_router)
    app.include_router(setup_router)
    app.include_router(customers_router)

    @app.exception_handler(StarletteHTTPException)
    async def page_not_found(request: Request, error: StarletteHTTPException) -> Response:
        """An address that is no page: the not-found page in the reader's language, as
        for a Business they may not see (the API keeps its JSON answers)."""
        if error.status_code == 404 and not request.url.path.startswith(f"{API_PREFIX}/"):
            return render(request, "not_found.html", status_code=404)
        return await http_exception_handler(request, error)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> Response:
        ready = await services.store.ping()
        return Response(status_code=200 if ready else 503)

    @app.get("/language/{code}", include_in_schema=False)
    async def choose_language(code: str, request: Request) -> RedirectResponse:
        """Set the `lang` cookie and go back to the page the link was on (only ever a page
        of this console). A GET that changes nothing but the reader's own language."""
        back = same_site_path(request.headers.get("referer"), settings.public_url)
        response = RedirectResponse(back, status_code=303)
        if code in LANGUAGES:
            response.set_cookie(
                LANGUAGE_COOKIE, code, max_age=365 * 86400, samesite="lax",
                secure=settings.secure_cookies, httponly=True,
            )  # fmt: skip
        return response

    return app
