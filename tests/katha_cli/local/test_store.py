"""`katha up`'s conversation store: a SQLite file in the state folder, migrated before the
router starts (a store that cannot be migrated stops `katha up` with one line), and the
router started with it as its `KATHA_ROUTER_STORE_URL`, keeping the conversations it sees."""

import asyncio
import shutil
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from alembic.script import ScriptDirectory
from peers.tenant_agent import Agent
from peers.whatsapp_webhooks import notification, signed, text
from starlette.applications import Starlette
from starlette.routing import Mount

from katha.store import ConversationStore, StoredEvent, current_revision
from katha.store.migrate import alembic_config
from katha_cli.local import router_process
from katha_cli.local.outbox import Outbox
from katha_cli.local.servers import BackgroundServer, bind
from katha_cli.local.store import STORE_FILE, StoreMigrationError, migrate_store, store_url
from katha_cli.local.workspace import LocalTenant, Workspace, load_workspace
from router.settings import RouterSettings

REPO_ROOT = Path(__file__).resolve().parents[3]
MINIMAL_BUSINESS = REPO_ROOT / "crds" / "examples" / "01-minimal-business.yaml"
CUSTOMER = "94770001111"


def newest_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def test_the_store_is_created_in_the_state_folder_at_the_newest_schema(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    url = migrate_store(state)
    assert url == f"sqlite:///{(state / STORE_FILE).resolve()}"
    assert url.startswith("sqlite:////"), "an absolute path: the router may run elsewhere"
    assert (state / STORE_FILE).is_file()
    assert current_revision(url) == newest_revision()


def test_migrating_again_keeps_what_the_store_holds(tmp_path: Path) -> None:
    url = migrate_store(tmp_path)
    with sqlite3.connect(tmp_path / STORE_FILE) as db:
        db.execute("CREATE TABLE kept (note TEXT)")
        db.execute("INSERT INTO kept VALUES ('still here')")
    assert migrate_store(tmp_path) == url
    with sqlite3.connect(tmp_path / STORE_FILE) as db:
        assert db.execute("SELECT note FROM kept").fetchall() == [("still here",)]
    assert current_revision(url) == newest_revision()


def test_a_file_that_is_not_a_database_stops_katha_up_with_one_line(tmp_path: Path) -> None:
    (tmp_path / STORE_FILE).write_bytes(b"these are not the bytes of a SQLite database" * 100)
    with pytest.raises(StoreMigrationError) as error:
        migrate_store(tmp_path)
    message = str(error.value)
    assert "\n" not in message
    assert str(tmp_path / STORE_FILE) in message
    assert "not a database" in message


def test_a_store_left_by_a_newer_katha_is_refused_not_changed(tmp_path: Path) -> None:
    url = migrate_store(tmp_path)
    with sqlite3.connect(tmp_path / STORE_FILE) as db:
        db.execute("UPDATE alembic_version SET version_num = 'from_katha_9'")
    with pytest.raises(StoreMigrationError, match="from_katha_9") as error:
        migrate_store(tmp_path)
    assert "\n" not in str(error.value)
    assert current_revision(url) == "from_katha_9"


def settings_for(state: Path, url: str | None) -> RouterSettings:
    return router_process.router_settings(
        8080,
        host="127.0.0.1",
        state_dir=state,
        routes_file=state / "routes.json",
        graph_url="http://127.0.0.1:9",
        log_level="WARNING",
        store_url=url,
    )


def test_the_router_gets_the_store_as_a_cluster_gives_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = store_url(tmp_path)
    settings = settings_for(tmp_path, url)
    assert settings.store_url is not None
    assert settings.store_url.get_secret_value() == f"sqlite:///{tmp_path.resolve()}/{STORE_FILE}"
    # The same setting the chart gives the router pod through KATHA_ROUTER_STORE_URL.
    monkeypatch.setenv("KATHA_ROUTER_STORE_URL", url)
    from_environment = RouterSettings()
    assert from_environment.store_url is not None
    assert from_environment.store_url.get_secret_value() == url
    assert settings_for(tmp_path, None).store_url is None


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    folder = tmp_path / "shops"
    folder.mkdir()
    shutil.copy(MINIMAL_BUSINESS, folder)
    return load_workspace(folder, tmp_path / "state")


@pytest.fixture
def router_url(workspace: Workspace, tmp_path: Path) -> Iterator[str]:
    """The router as `katha up` starts it (migrated store, local Graph API), its tenant's
    agent a loopback one at the path Ray Serve would give it."""
    state = tmp_path / "state"
    (tenant,) = workspace.tenants
    agents = Starlette(routes=[Mount(tenant.route_prefix, app=Agent("shop").app())])
    agent_server = BackgroundServer(agents, bind("127.0.0.1", 0, "agents"), "agents").start()
    outbox = Outbox(state / "outbox.db")
    graph = router_process.start_graph_api(outbox, workspace, on_message=lambda _: None)
    routes = state / "routes.json"
    router_process.write_routes(
        workspace, router_process.proxy_endpoints(workspace, agent_server.url), routes
    )
    sock = bind("127.0.0.1", 0, "router")
    settings = router_process.router_settings(
        sock.getsockname()[1],
        host="127.0.0.1",
        state_dir=state,
        routes_file=routes,
        graph_url=graph.url,
        log_level="WARNING",
        store_url=migrate_store(state),
    )
    router = router_process.start_router(sock, settings)
    try:
        router_process.wait_until_ready(router.url)
        yield router.url
    finally:
        router.stop()
        graph.stop()
        agent_server.stop()
        outbox.close()


def thread_of(url: str, tenant: LocalTenant) -> list[StoredEvent]:
    async def read() -> list[StoredEvent]:
        store = ConversationStore.from_url(url)
        try:
            summaries = await store.conversations(tenant.key)
            return [e for s in summaries for e in await store.thread(tenant.key, s.conversation_id)]
        finally:
            await store.close()

    return asyncio.run(read())


def test_the_router_of_katha_up_keeps_each_conversation_in_the_store(
    workspace: Workspace, router_url: str, tmp_path: Path
) -> None:
    (tenant,) = workspace.tenants
    body, headers = signed(
        notification(tenant.phone_number_id, [text("Do you deliver to Kandy?", sender=CUSTOMER)]),
        tenant.credentials.app_secret.get_secret_value(),
    )
    response = httpx.post(f"{router_url}/webhooks/whatsapp", content=body, headers=headers)
    assert response.status_code == 200, response.text
    url = store_url(tmp_path / "state")
    kept: list[tuple[str, str | None]] = []
    for _ in range(200):  # the router writes off the reply path, in batches
        kept = [(event.author, event.text) for event in thread_of(url, tenant)]
        if ("agent", "shop answers: Do you deliver to Kandy?") in kept:
            break
        time.sleep(0.05)
    assert kept[:2] == [
        ("customer", "Do you deliver to Kandy?"),
        ("agent", "shop answers: Do you deliver to Kandy?"),
    ]
