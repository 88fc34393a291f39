"""What the conversation and insights tests share: the console as it runs (the fixtures
`store_url`, `router_admin` and `console`, which each folder's conftest.py imports), the
router's admin API as a recording peer, and events as the router writes them."""

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from peers.loopback import ServerThread
from pydantic import SecretStr

from console.app import create_app
from console.auth.api_tokens import issue
from console.auth.principal import Role
from console.auth.sessions import SESSION_COOKIE, csrf_for, start_session
from console.router_client import RouterAdmin
from console.services import ConsoleServices
from console.settings import ConsoleSettings
from katha.store import ConversationStore, StoreEvent, upgrade

ALPHA, BETA = "shops/alpha", "shops/beta"
ADMIN_TOKEN = "console-admin-7c1e94b2d05a"
START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@dataclass
class AdminCall:
    action: str  # takeover, reply, release
    conversation_id: str
    body: dict[str, Any]
    authorization: str | None


@dataclass
class FakeRouterAdmin:
    """The router's /admin API: answers as the router does and keeps every call.
    `refuse[action] = (status, body)` makes that action fail."""

    calls: list[AdminCall] = field(default_factory=list)
    reply_answer: str = "free_form"
    refuse: dict[str, tuple[int, dict[str, Any]]] = field(default_factory=dict)

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/admin/conversations/{conversation_id}/{action}")
        async def act(conversation_id: str, action: str, request: Request) -> Response:
            body = await request.json()
            auth = request.headers.get("authorization")
            self.calls.append(AdminCall(action, conversation_id, body, auth))
            if action in self.refuse:
                status, answer = self.refuse[action]
                return JSONResponse(answer, status_code=status)
            answers = {
                "takeover": {"with_person": True},
                "reply": {"sent": self.reply_answer},
                "release": {"released": True},
            }
            return JSONResponse(answers[action])

        return app


@dataclass
class Console:
    """The running console and what a test needs around it."""

    url: str
    settings: ConsoleSettings
    store: ConversationStore  # the test's own connection: the router's side, and sign-ins
    router: FakeRouterAdmin
    router_server: ServerThread  # stop it to see the router down

    async def record(self, *events: StoreEvent) -> None:
        await self.store.record(list(events))

    def _services(self) -> ConsoleServices:
        admin = RouterAdmin.connect(self.router_url, ADMIN_TOKEN)
        return ConsoleServices(settings=self.settings, store=self.store, router=admin)

    @property
    def router_url(self) -> str:
        return self.settings.router_url

    async def sign_in(
        self, tenants: dict[str, Role], display: str = "Nimal", language: str | None = None
    ) -> httpx.AsyncClient:
        """A client holding a live session's cookie, sending its CSRF token."""
        services = self._services()
        try:
            token = await start_session(
                services, Response(), subject=f"test:{display}", display=display, tenants=tenants
            )
        finally:
            await services.router.aclose()
        cookies = {SESSION_COOKIE: token}
        if language is not None:
            cookies["lang"] = language
        headers = {"X-CSRF-Token": csrf_for(self.settings, token)}
        return httpx.AsyncClient(base_url=self.url, cookies=cookies, headers=headers)

    async def api_token(self, tenant: str) -> httpx.AsyncClient:
        """A client holding one of `tenant`'s API tokens (no cookie, no CSRF token)."""
        services = self._services()
        try:
            _, token = await issue(services, tenant, "crm", "test:owner")
        finally:
            await services.router.aclose()
        headers = {"Authorization": f"Bearer {token}"}
        return httpx.AsyncClient(base_url=self.url, headers=headers)

    def anonymous(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url)


def message(
    number: int,
    *,
    tenant: str = ALPHA,
    conversation: str = "c-1",
    author: str = "customer",
    **fields: Any,
) -> StoreEvent:
    """An event as the router records it: `number` makes its id, and its time `number`
    minutes after START."""
    values: dict[str, Any] = {
        "event_id": f"wamid.{tenant}.{number}",
        "tenant": tenant,
        "conversation_id": conversation,
        "at": START + timedelta(minutes=number),
        "author": author,
        "text": f"message {number}",
    }
    return StoreEvent(**(values | fields))


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    upgrade(url)
    return url


@pytest.fixture
def router_admin() -> Iterator[tuple[FakeRouterAdmin, ServerThread]]:
    peer = FakeRouterAdmin()
    server = ServerThread(peer.app()).start()
    yield peer, server
    server.stop()


@pytest.fixture
async def console(
    store_url: str, router_admin: tuple[FakeRouterAdmin, ServerThread]
) -> AsyncIterator[Console]:
    peer, router_server = router_admin
    settings = ConsoleSettings(
        store_url=SecretStr(store_url),
        router_url=router_server.url,
        router_admin_token=SecretStr(ADMIN_TOKEN),
        session_secret=SecretStr("console-tests-session-secret-5d8a1f"),
        secure_cookies=False,
    )
    server = ServerThread(create_app(settings)).start()
    store = ConversationStore.from_url(store_url)
    try:
        yield Console(server.url, settings, store, peer, router_server)
    finally:
        await store.close()
        server.stop()
