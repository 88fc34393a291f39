"""The router under uvicorn on loopback, with a local Graph API, local agents and a real
redis-server; the harness is harness.py next to this file, the peers tests/support/peers."""

import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from redis_server import launch_redis

sys.path.insert(0, str(Path(__file__).parent))

from harness import RouterHarness, Tenant
from peers.graph_api import GraphApi
from peers.loopback import ServerThread
from peers.tenant_agent import Agent

from router.inbox import open_inbox
from router.inbox.base import Inbox
from router.settings import RouterSettings


@pytest.fixture
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real redis-server (Debian package `redis-server`) on a free loopback port, one
    per test: nothing a test leaves behind (a consumer still claiming, keys, a lost group)
    can reach the next one. It starts in a few milliseconds."""
    try:
        process, port = launch_redis(tmp_path_factory.mktemp("redis"))
    except FileNotFoundError as error:
        pytest.fail(str(error))
    client = redis.Redis(host="127.0.0.1", port=port)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                pytest.fail("redis-server did not start")
            time.sleep(0.02)
    yield f"redis://127.0.0.1:{port}/0"
    client.close()
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(params=["sqlite", "redis"])
def inbox_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Both inbox backends, each for real."""
    if request.param == "sqlite":
        return f"sqlite://{tmp_path / 'inbox.db'}"
    url: str = request.getfixturevalue("redis_url")
    return url


@pytest.fixture
async def inbox(inbox_url: str) -> AsyncIterator[Inbox]:
    """An open inbox of each backend, with a short lease."""
    opened = open_inbox(RouterSettings(inbox_url=inbox_url, lease_seconds=0.5))
    await opened.open()
    yield opened
    await opened.close()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite://{tmp_path / 'inbox.db'}"


@pytest.fixture
def servers() -> Iterator[list[ServerThread]]:
    """Every local server a test starts; at the end all are told to stop, then awaited,
    so their shutdowns overlap instead of adding up."""
    started: list[ServerThread] = []
    yield started
    for server in started:
        server.request_stop()
    for server in started:
        server.stop()


@pytest.fixture
def graph(servers: list[ServerThread]) -> GraphApi:
    api = GraphApi()
    server = ServerThread(api.app()).start()
    servers.append(server)
    api.url = f"{server.url}/{api.version}"
    return api


@pytest.fixture
def agents(servers: list[ServerThread]) -> dict[str, tuple[Agent, ServerThread]]:
    started: dict[str, tuple[Agent, ServerThread]] = {}
    for name in ("alpha", "beta"):
        agent = Agent(name=name)
        started[name] = (agent, ServerThread(agent.app()).start())
        servers.append(started[name][1])
    return started


@pytest.fixture
def tenants(agents: dict[str, tuple[Agent, ServerThread]]) -> dict[str, Tenant]:
    return {
        "alpha": Tenant.named("alpha", "105954558954427", agents["alpha"][1].url),
        "beta": Tenant.named("beta", "206065669065538", agents["beta"][1].url),
    }


@pytest.fixture
def harness(
    tmp_path: Path,
    sqlite_url: str,
    graph: GraphApi,
    tenants: dict[str, Tenant],
    servers: list[ServerThread],
) -> Iterator[RouterHarness]:
    """The router (SQLite inbox) with tenants alpha and beta; `start_router` for others."""
    with RouterHarness(tmp_path, sqlite_url, graph, list(tenants.values())) as router:
        servers.append(router.server)
        yield router


@pytest.fixture
def start_router(
    tmp_path: Path, graph: GraphApi, tenants: dict[str, Tenant], servers: list[ServerThread]
) -> Iterator[Callable[..., RouterHarness]]:
    """Start the router with other settings (`inbox_url=...`, `tenant_concurrency=...`)."""
    running: list[RouterHarness] = []

    def start(inbox_url: str | None = None, **overrides: Any) -> RouterHarness:
        url = inbox_url or f"sqlite://{tmp_path / 'inbox.db'}"
        router = RouterHarness(tmp_path, url, graph, list(tenants.values()), **overrides)
        running.append(router.__enter__())
        servers.append(router.server)
        return router

    yield start
    for router in running:
        router.__exit__(None, None, None)
