"""`katha up` follows its folder while it runs: a new greeting and owner number (edited
in the file or changed in the owner console), an FAQ item added to the Business, a changed
knowledge file, and a document uploaded (into the store, or through the console and the
router's admin API) with a request to re-index reach the next customer without a restart;
an invalid edit is reported as `katha up` reports it at start while the last good files
keep serving; an added Business asks for a restart.

One `katha up` on a copy of examples/kandy-bakery serves every test here; each test makes
its change as an owner's console or a developer's editor would and waits for the line
`katha up` prints once it applied it."""

import json
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
import yaml
from katha_up import start_katha_up, wait_for_output

from ingestion.index.location import index_location
from katha_cli.local.chat import Customer
from katha_cli.local.follow import refresh_requests_dir
from katha_cli.local.state import read_state

pytestmark = pytest.mark.slow

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "kandy-bakery"
RELOADED = "↻ demo/kandy-bakery: reloaded"
ROUTING = "↻ demo/kandy-bakery: routing updated"
INVALID = "changed but is not valid; still serving the last good files"
# The router reads its routing-table file every 0.5 s (routes_poll_seconds): a message
# sent the moment `katha up` says the routing changed may still meet the table before.
ROUTER_READS_ROUTES = 2.0


@dataclass
class Up:
    process: subprocess.Popen[bytes]
    business: Path
    state: Path
    log: Path

    def ask(self, text: str) -> str:
        """What a customer is answered, through a signed webhook and the outbox."""
        up = read_state(self.state)
        with Customer(up, up.tenants[0], timeout=120) as customer:
            return customer.ask(text).text

    def edit(self, *changes: tuple[str, str]) -> None:
        """Change the Business file in one write, as the console or an editor does."""
        text = self.business.read_text(encoding="utf-8")
        for old, new in changes:
            assert old in text
            text = text.replace(old, new, 1)
        self.business.write_text(text, encoding="utf-8")

    def send(self, text: str) -> None:
        """A customer's message, not waiting for an answer (a paused Business gives none)."""
        up = read_state(self.state)
        with Customer(up, up.tenants[0], timeout=120) as customer:
            customer.send(text)

    def held_while_paused(self) -> float:
        """Messages the router kept for the owner because the Business is paused."""
        metrics = httpx.get(f"{read_state(self.state).router_url}/metrics", timeout=10).text
        for line in metrics.splitlines():
            labels = ('reason="paused"', 'tenant="demo/kandy-bakery"')
            if line.startswith("katha_router_held_total{") and all(x in line for x in labels):
                return float(line.rsplit(" ", 1)[1])
        return 0.0  # none held yet: the counter has no such series

    def agent_endpoint(self) -> str:
        """Where the router posts the tenant's messages (katha_cli.local.endpoints)."""
        (route,) = json.loads((self.state / "routes.json").read_text())["routes"]
        return str(route["endpoint"])

    def replica_endpoint(self) -> str | None:
        """The router's endpoint when it is the agent replica's own HTTP server (Serve's
        direct ingress), not Serve's proxy: the server says which application it is."""
        endpoint = self.agent_endpoint()
        address = urlsplit(endpoint)
        if address.port == urlsplit(read_state(self.state).agents_url).port:
            return None
        served = httpx.get(f"http://{address.netloc}/-/routes", timeout=10).json()
        return endpoint if served == {"/demo/kandy-bakery": "demo.kandy-bakery"} else None

    def wait_for_the_replica_itself(self, timeout: float = 30.0) -> str:
        """A look whose health check timed out on a loaded machine sends a second's
        messages through the proxy: wait for the replica rather than catch that second."""
        deadline = time.monotonic() + timeout
        while (endpoint := self.replica_endpoint()) is None:
            assert time.monotonic() < deadline, "the router is not pointed at the replica"
            time.sleep(0.5)
        return endpoint

    def routing_updates(self) -> int:
        return self.log.read_text(encoding="utf-8", errors="replace").count(ROUTING)

    def reloads(self) -> int:
        return self.log.read_text(encoding="utf-8", errors="replace").count(RELOADED)

    def wait_for_reload(self, before: int) -> str:
        return wait_for_output(self.process, self.log, RELOADED, times=before + 1)


@pytest.fixture(scope="module")
def up(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Up]:
    root = tmp_path_factory.mktemp("follow")
    folder = root / "kandy-bakery"
    shutil.copytree(EXAMPLE, folder)
    log = root / "up.log"
    process = start_katha_up(folder, root / "state", log)
    try:
        yield Up(process, folder / "business.yaml", root / "state", log)
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(120) == 0


def greeting_line(text: str) -> str:
    found = re.search(r"^    greeting: .*$", text, flags=re.MULTILINE)
    assert found is not None
    return found.group(0)


def test_a_new_greeting_and_owner_number_serve_without_a_restart(up: Up) -> None:
    assert "Ayubowan! I'm Sanda" in up.ask("Hello")
    replica = up.wait_for_the_replica_itself()
    before = up.reloads()
    text = up.business.read_text(encoding="utf-8")
    up.edit(
        (greeting_line(text), '    greeting: "Welcome to the new Senkadagala counter!"'),
        ('ownerNumber: "+94770000001"', 'ownerNumber: "+94770000042"'),
    )
    output = up.wait_for_reload(before)
    # The redeploy replaced the replica: the router is told where its successor answers
    # before `katha up` says it reloaded (Serve's proxy until the new one has its port).
    assert up.agent_endpoint() != replica
    assert httpx.get(up.agent_endpoint() + "/readyz", timeout=10).status_code == 200

    assert "Welcome to the new Senkadagala counter!" in up.ask("Hello")
    assert up.wait_for_the_replica_itself() != replica
    assert "Welcome to the new Senkadagala counter!" in up.ask("Hello")
    # The router's table and `katha chat`'s state name the new owner number.
    assert read_state(up.state).tenants[0].owner_number == "+94770000042"
    routes = json.loads((up.state / "routes.json").read_text())["routes"]
    assert [route["owner_number"] for route in routes] == ["+94770000042"]
    # Nothing in the knowledge changed: the index was not built again.
    assert "knowledge re-indexed" not in output.split(RELOADED)[-1].splitlines()[0]


def test_a_pause_only_changes_the_routes_and_the_agent_keeps_running(up: Up) -> None:
    """The router holds a paused Business's messages: the agent is not deployed again
    (its replicas would be replaced for seconds) for a pause or for its end."""
    assert up.ask("Hello").strip()
    reloads, updates = up.reloads(), up.routing_updates()
    held = up.held_while_paused()
    up.edit(("spec:\n", "spec:\n  paused: true\n"))
    output = wait_for_output(up.process, up.log, ROUTING, times=updates + 1)

    assert "paused: messages are kept for the owner" in output.split(ROUTING)[-1]
    assert up.reloads() == reloads  # said after any redeploy of the same change: none
    routes = json.loads((up.state / "routes.json").read_text())["routes"]
    assert [route["paused"] for route in routes] == [True]
    time.sleep(ROUTER_READS_ROUTES)
    up.send("Hello, are you open?")
    deadline = time.monotonic() + 120
    while up.held_while_paused() == held:  # kept for the owner, answered by nobody
        assert time.monotonic() < deadline, "the paused Business's message was not held"
        time.sleep(0.25)

    up.edit(("  paused: true\n", "  paused: false\n"))
    output = wait_for_output(up.process, up.log, ROUTING, times=updates + 2)
    assert "answering again" in output.split(ROUTING)[-1]
    assert up.reloads() == reloads
    routes = json.loads((up.state / "routes.json").read_text())["routes"]
    assert [route["paused"] for route in routes] == [False]
    time.sleep(ROUTER_READS_ROUTES)
    assert up.ask("Hello").strip()  # answered again, by the agent that kept running


@pytest.fixture(scope="module")
def owner(up: Up) -> Iterator[tuple[httpx.Client, str]]:
    """A console session of the Business's owner, signed in with the code `katha up`
    prints, and its CSRF token (from a page's form)."""
    state = read_state(up.state)
    owner = state.tenants[0].owner_number
    assert owner is not None
    client = httpx.Client(base_url=state.console_url, timeout=30)
    codes = up.log.read_text(encoding="utf-8").count("sign-in code for demo/kandy-bakery: ")
    assert client.post("/signin/code", data={"number": owner}).status_code == 200
    output = wait_for_output(
        up.process, up.log, "sign-in code for demo/kandy-bakery: ", times=codes + 1
    )
    code = re.findall(r"sign-in code for demo/kandy-bakery: ([0-9]+)", output)[-1]
    assert client.post("/signin/verify", data={"code": code}).status_code == 303
    page = client.get("/b/demo/kandy-bakery/settings")
    assert page.status_code == 200, page.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf is not None
    try:
        yield client, csrf.group(1)
    finally:
        client.close()


def test_a_greeting_the_owner_changes_in_the_console_is_served(
    up: Up, owner: tuple[httpx.Client, str]
) -> None:
    client, csrf = owner
    settings = "/api/v1/tenants/demo/kandy-bakery/settings"
    persona = client.get(settings).json()["persona"]
    before = up.reloads()
    changed = client.put(
        settings,
        json={"persona": persona | {"greeting": "Ayubowan from the console!"}},
        headers={"X-CSRF-Token": csrf},
    )
    assert changed.status_code == 200, changed.text
    up.wait_for_reload(before)

    # Written to the Business file, which `katha up` follows.
    written = yaml.safe_load(up.business.read_text(encoding="utf-8"))
    assert written["spec"]["persona"]["greeting"] == "Ayubowan from the console!"
    assert "Ayubowan from the console!" in up.ask("Hello")


def test_an_faq_item_added_to_the_business_answers_the_next_customer(up: Up) -> None:
    before = up.reloads()
    faq = (
        "    faq:\n"
        "      - q: Do you sell gift vouchers?\n"
        "        a: Yes, gift vouchers of Rs. 2,750 are sold at the counter.\n"
        "        language: en\n"
    )
    up.edit(("  knowledge:\n", "  knowledge:\n" + faq))
    output = up.wait_for_reload(before)

    assert "knowledge re-indexed" in output.split(RELOADED)[-1].splitlines()[0]
    assert "2,750" in up.ask("Do you sell gift vouchers?")


def test_a_changed_knowledge_file_is_indexed_again(up: Up) -> None:
    about = up.business.parent / "about.md"
    before = up.reloads()
    about.write_text(
        about.read_text(encoding="utf-8")
        + "\n\nOur new branch opens in Peradeniya on Galaha Road, next to the university gate.\n",
        encoding="utf-8",
    )
    output = up.wait_for_reload(before)

    assert "knowledge re-indexed" in output.split(RELOADED)[-1].splitlines()[0]
    assert "Galaha Road" in up.ask("Where is your new Peradeniya branch?")


def test_an_uploaded_document_is_answered_after_a_refresh_request(up: Up) -> None:
    # Where the console's upload lands: the document store beside the tenant's index.
    store = index_location(str(up.state / "index")).child("demo", "kandy-bakery").documents()
    folder = Path(store.path)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "parking.txt").write_text(
        "Parking: customers park free for 30 minutes in the Temple Lane yard behind the shop.\n"
    )
    before = up.reloads()
    request = refresh_requests_dir(up.state) / "demo.kandy-bakery"
    request.write_text(datetime.now(UTC).isoformat())
    output = up.wait_for_reload(before)

    assert "knowledge re-indexed" in output.split(RELOADED)[-1].splitlines()[0]
    assert not request.exists()  # taken when its run started
    assert "Temple Lane" in up.ask("Where can I park near the shop?")


def test_a_document_the_owner_uploads_in_the_console_is_answered_after_re_indexing(
    up: Up, owner: tuple[httpx.Client, str]
) -> None:
    client, csrf = owner
    knowledge = "/api/v1/tenants/demo/kandy-bakery/knowledge"
    # Console -> the router's admin API -> the agent's document store, on katha up's routes.
    uploaded = client.put(
        f"{knowledge}/documents/cake-boxes.txt",
        content=b"Cake boxes: every cake goes home in a free blue box with our crest.\n",
        headers={"X-CSRF-Token": csrf, "Content-Type": "application/octet-stream"},
    )
    assert uploaded.status_code == 201, uploaded.text
    before = up.reloads()
    asked = client.post(f"{knowledge}/reindex", headers={"X-CSRF-Token": csrf})
    assert asked.status_code == 202, asked.text
    output = up.wait_for_reload(before)

    assert "knowledge re-indexed" in output.split(RELOADED)[-1].splitlines()[0]
    assert "blue box" in up.ask("What box does a cake come in?")
    assert "cake-boxes.txt" in client.get(knowledge).text


def test_an_invalid_edit_is_reported_and_the_last_good_files_keep_serving(up: Up) -> None:
    greeting = up.ask("Hello")
    problems = up.log.read_text(encoding="utf-8").count(INVALID)
    good = up.business.read_text(encoding="utf-8")
    up.edit(("    tone: warm\n", "    tone: grumpy\n"))
    output = wait_for_output(up.process, up.log, INVALID, times=problems + 1)

    reported = output.split(INVALID)[-1]
    assert "spec.persona.tone" in reported
    assert str(up.business) in reported
    assert up.ask("Hello") == greeting
    # Back to the good file: nothing to apply, and the same answers.
    up.business.write_text(good, encoding="utf-8")
    assert up.ask("Hello") == greeting


def test_an_added_business_asks_for_a_restart_and_the_others_keep_serving(up: Up) -> None:
    greeting = up.ask("Hello")
    added = up.business.parent / "tea-shop.yaml"
    added.write_text(
        "apiVersion: katha.dev/v1alpha1\n"
        "kind: Business\n"
        "metadata: {name: tea-shop, namespace: demo}\n"
        "spec:\n"
        "  displayName: Nuwara Tea Shop\n"
        "  whatsapp: {phoneNumberId: '100000000000077', credentialsSecretRef: {name: tea}}\n"
    )
    wait_for_output(up.process, up.log, "demo/tea-shop was added: restart `katha up` to serve it")
    added.unlink()

    assert [tenant.key for tenant in read_state(up.state).tenants] == ["demo/kandy-bakery"]
    assert up.ask("Hello") == greeting
