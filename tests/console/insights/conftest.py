"""The console for the insights tests: running for real on loopback over a migrated SQLite
store, with the conversation tests' helpers (console_under_test) imported, not copied."""

import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from peers.loopback import ServerThread
from pydantic import SecretStr

from console.app import create_app
from console.settings import ConsoleSettings
from katha.store import ConversationStore, upgrade

sys.path.insert(0, str(Path(__file__).parents[1] / "conversations"))

from console_under_test import ADMIN_TOKEN, Console, FakeRouterAdmin


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
        session_secret=SecretStr("insights-session-secret-93c2e7"),
        secure_cookies=False,
    )
    server = ServerThread(create_app(settings)).start()
    store = ConversationStore.from_url(store_url)
    try:
        yield Console(server.url, settings, store, peer, router_server)
    finally:
        await store.close()
        server.stop()
