"""`katha up`'s owner console: the cluster's console app on loopback, reading the store
`katha up` migrated and calling its router's admin API with the token the two share; its
session secret kept in the state folder; its URL in the summary; and a sign-in code the
router sends a local owner lands in the outbox and is printed to the terminal."""

import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from katha_cli.local import console_process, router_process
from katha_cli.local.outbox import Outbox
from katha_cli.local.servers import BackgroundServer, bind
from katha_cli.local.store import migrate_store
from katha_cli.local.summary import summary_lines, up_state
from katha_cli.local.workspace import Workspace, load_workspace

OWNER = "94770000001"
BUSINESS = f"""\
apiVersion: katha.dev/v1alpha1
kind: Business
metadata: {{name: tea-shop, namespace: demo}}
spec:
  displayName: Nuwara Tea Shop
  whatsapp:
    phoneNumberId: "100000000000011"
    credentialsSecretRef: {{name: tea-shop-whatsapp}}
    templates:
      loginCode: {{name: katha_login_code, languages: [en], category: AUTHENTICATION}}
  handoff: {{enabled: true, ownerNumber: "+{OWNER}"}}
  knowledge:
    sources:
      - type: faq
        items:
          - {{q: "When do you open?", a: "Every day from 8am to 6pm."}}
"""


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    folder = tmp_path / "shop"
    folder.mkdir()
    (folder / "business.yaml").write_text(BUSINESS)
    return load_workspace(folder, tmp_path / "state")


@dataclass
class Up:
    console_url: str
    outbox: Outbox
    said: list[str]


@pytest.fixture
def up(workspace: Workspace, tmp_path: Path) -> Iterator[Up]:
    """The router, local Graph API and console as `katha up` starts them (no agents: a
    sign-in code needs none)."""
    state = tmp_path / "state"
    store_url = migrate_store(state)
    token = console_process.new_admin_token()
    outbox = Outbox(state / "outbox.db")
    graph = router_process.start_graph_api(outbox, workspace, on_message=lambda _: None)
    agents = BackgroundServer(Starlette(), bind("127.0.0.1", 0, "agents"), "agents").start()
    routes = state / "routes.json"
    router_process.write_routes(
        workspace, router_process.proxy_endpoints(workspace, agents.url), routes
    )
    router_sock = bind("127.0.0.1", 0, "router")
    settings = router_process.router_settings(
        router_sock.getsockname()[1],
        host="127.0.0.1",
        state_dir=state,
        routes_file=routes,
        graph_url=graph.url,
        log_level="WARNING",
        store_url=store_url,
        admin_token=token,
    )
    router = router_process.start_router(router_sock, settings)
    said: list[str] = []
    sock = bind("127.0.0.1", 0, "owner console")
    console_settings = console_process.console_settings(
        sock.getsockname()[1],
        store_url=store_url,
        router_url=router.url,
        admin_token=token,
        secret=console_process.session_secret(state),
        log_level="WARNING",
    )
    local = frozenset(tenant.key for tenant in workspace.tenants)
    try:
        router_process.wait_until_ready(router.url)
        console = console_process.start_console(
            sock, console_settings, say=said.append, local_tenants=local
        )
        try:
            yield Up(console.url, outbox, said)
        finally:
            console.stop()
    finally:
        router.stop()
        agents.stop()
        graph.stop()
        outbox.close()


def test_the_session_secret_is_kept_in_the_state_folder_for_this_user_only(
    tmp_path: Path,
) -> None:
    first = console_process.session_secret(tmp_path)
    assert len(first) >= 32
    path = tmp_path / console_process.SESSION_SECRET_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert console_process.session_secret(tmp_path) == first, "owners stay signed in"
    assert console_process.session_secret(tmp_path / "elsewhere") != first


def test_router_and_console_of_katha_up_get_one_admin_token(tmp_path: Path) -> None:
    token = console_process.new_admin_token()
    assert token != console_process.new_admin_token()
    router = router_process.router_settings(
        8080,
        host="127.0.0.1",
        state_dir=tmp_path,
        routes_file=tmp_path / "routes.json",
        graph_url="http://127.0.0.1:9",
        log_level="WARNING",
        admin_token=token,
    )
    console = console_process.console_settings(
        8791,
        store_url=f"sqlite:///{tmp_path / 'conversations.db'}",
        router_url="http://127.0.0.1:8080",
        admin_token=token,
        secret=console_process.session_secret(tmp_path),
        log_level="WARNING",
    )
    assert router.admin_token is not None
    assert console.router_admin_token is not None
    assert router.admin_token.get_secret_value() == console.router_admin_token.get_secret_value()
    assert console.secure_cookies is False, "plain http on loopback"
    assert (console.host, console.public_url) == ("127.0.0.1", "http://127.0.0.1:8791")


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("0.0.0.0", "http://127.0.0.1:8080"),  # noqa: S104 - a --host value, never bound here
        ("::", "http://127.0.0.1:8080"),
        ("192.168.1.5", "http://192.168.1.5:8080"),
    ],
)
def test_the_console_reaches_a_router_bound_everywhere_on_loopback(
    host: str, expected: str
) -> None:
    url = f"http://[{host}]:8080" if ":" in host else f"http://{host}:8080"
    assert console_process.reachable_url(url, host, 8080) == expected


def test_the_console_of_katha_up_serves_on_loopback(up: Up) -> None:
    assert up.console_url.startswith("http://127.0.0.1:")
    assert httpx.get(f"{up.console_url}/healthz").json() == {"status": "ok"}
    assert httpx.get(f"{up.console_url}/readyz").status_code == 200, "it reads the store"


def test_a_sign_in_code_reaches_the_outbox_through_the_router_and_the_terminal(up: Up) -> None:
    page = httpx.post(f"{up.console_url}/signin/code", data={"number": f"+{OWNER}", "next": "/"})
    assert page.status_code == 200, page.text
    (line,) = [line for line in up.said if "sign-in code" in line]
    printed = re.fullmatch(r"  sign-in code for demo/tea-shop: ([0-9]{8})", line)
    assert printed is not None, line
    code = printed.group(1)
    (message,) = [m for m in up.outbox.since(0) if m.recipient == OWNER]
    assert message.kind == "template"
    assert code in (message.text or "")


def test_a_number_that_owns_nothing_prints_nothing(up: Up) -> None:
    page = httpx.post(f"{up.console_url}/signin/code", data={"number": "+94770009999"})
    assert page.status_code == 200
    assert not [line for line in up.said if "sign-in code" in line]
    assert up.outbox.since(0) == []


def test_the_summary_and_the_state_file_name_the_console(workspace: Workspace) -> None:
    lines = summary_lines(
        workspace, "http://127.0.0.1:8080", {}, {}, console_url="http://127.0.0.1:8791"
    )
    assert any(line.startswith("Owner console: http://127.0.0.1:8791") for line in lines)
    state = up_state(workspace, "http://r", "http://g", "http://a", "http://127.0.0.1:8791")
    assert state.console_url == "http://127.0.0.1:8791"
    assert not [line for line in summary_lines(workspace, "http://r", {}, {}) if "console" in line]
