"""The owner console in a real browser, end to end (issue #17): headless Chromium signs in
(a one-time code over WhatsApp, or OpenID Connect at a certified provider), watches a
customer's message arrive live, takes the conversation over, replies, gives it back, and
never sees another Business or runs a customer's markup.

Everything runs for real on loopback: the console (SQLite conversation store migrated to
head), the router writing the same store, a tenant agent per Business, Meta's Graph API
played by tests/support/peers/graph_api.py, and node's oidc-provider.
"""

import asyncio
import re
import sys
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytest
from browser import Person, browse_fixture, browser_fixture  # noqa: F401 - fixtures
from peers.graph_api import GraphApi, GraphCall
from peers.loopback import ServerThread
from peers.oidc import OidcProvider
from peers.tenant_agent import Agent
from playwright.sync_api import Page, expect
from ports import free_port
from pydantic import SecretStr

from console.app import create_app
from console.settings import ConsoleSettings
from katha.store import ConversationStore, ConversationSummary, upgrade

sys.path.insert(0, str(Path(__file__).parents[1] / "router"))

from harness import RouterHarness, Tenant, wait_for

pytestmark = pytest.mark.slow

OWNER = "94771110000"  # alpha's owner, signs in with a code
CUSTOMER = "94770002222"
ALPHA, BETA = "tenants/alpha", "tenants/beta"
ADMIN_TOKEN = "console-to-router-4b7e9d2a61f03c58"
CLIENT_ID, CLIENT_SECRET = "katha-console", "oidc-client-secret-8f2d6c1a9e"
LOGIN_CODE = {"name": "katha_login_code", "languages": ["en"], "category": "AUTHENTICATION"}
T = TypeVar("T")
MARKUP = "<script>alert(1)</script><img src=x onerror=alert(2)> is this cake halal?"


@dataclass
class Katha:
    """The running system: its addresses, and what Meta's side has seen."""

    console: str
    router: RouterHarness
    graph: GraphApi
    store_url: str
    oidc: OidcProvider | None

    def _read(self, query: Callable[[ConversationStore], Awaitable[list[T]]]) -> list[T]:
        async def read() -> list[T]:
            store = ConversationStore.from_url(self.store_url)
            try:
                return await query(store)
            finally:
                await store.close()

        # Playwright's own event loop runs in this thread: the store is read in another.
        with ThreadPoolExecutor(1) as reader:
            return reader.submit(asyncio.run, read()).result()

    def summary(self, tenant: str, handle: str) -> ConversationSummary | None:
        summaries = self._read(lambda store: store.conversations(tenant))
        found = [s for s in summaries if s.customer_handle == handle]
        return found[0] if found else None

    def conversation(self, tenant: str, handle: str) -> str:
        """The id of `handle`'s conversation with `tenant`, once the router stored it."""
        summary = wait_for(lambda: self.summary(tenant, handle), what=f"{tenant}'s conversation")
        return str(summary.conversation_id)

    def with_person(self, tenant: str, handle: str) -> bool:
        summary = self.summary(tenant, handle)
        assert summary is not None, "no such conversation"
        return summary.with_person

    def authors(self, tenant: str, conversation: str) -> list[str]:
        """Who wrote each event of the conversation, as the store keeps it."""
        return [event.author for event in self._read(lambda s: s.thread(tenant, conversation))]

    def sent_to(self, number: str) -> list[GraphCall]:
        return [call for call in self.graph.texts() if call.to == number]


def _code(call: GraphCall) -> str | None:
    """The one-time code in a message: the loginCode template's parameter, or in words."""
    texts = call.template[2] if call.template else [call.text or ""]
    codes = [code for text in texts for code in re.findall(r"\b[0-9]{8}\b", text)]
    return codes[0] if codes else None


@pytest.fixture
def start_katha(tmp_path: Path) -> Iterator[Callable[..., Katha]]:
    """`start_katha(oidc_accounts=...)`: the whole system; everything stops at the end."""
    servers: list[ServerThread] = []
    providers: list[OidcProvider] = []

    def start(oidc_accounts: dict[str, dict[str, object]] | None = None) -> Katha:
        store_url = f"sqlite:///{tmp_path / 'conversations.db'}"
        upgrade(store_url)
        graph = GraphApi()
        servers.append(ServerThread(graph.app()).start())
        graph.url = f"{servers[-1].url}/{graph.version}"
        tenants = []
        for name, number, owner in (("alpha", "105954558954427", OWNER),
                                    ("beta", "206065669065538", "94772220000")):  # fmt: skip
            servers.append(ServerThread(Agent(name=name).app()).start())
            tenant = Tenant.named(name, number, servers[-1].url)
            tenant.extra.update(owner_number="+" + owner, templates={"login_code": LOGIN_CODE})
            tenants.append(tenant)
        router = RouterHarness(
            tmp_path, f"sqlite://{tmp_path / 'inbox.db'}", graph, tenants,
            store_url=store_url, admin_token=ADMIN_TOKEN,
        ).__enter__()  # fmt: skip
        servers.append(router.server)
        port = free_port()
        console = f"http://127.0.0.1:{port}"
        oidc = None
        if oidc_accounts is not None:
            redirect = f"{console}/signin/oidc/callback"
            oidc = OidcProvider(tmp_path, CLIENT_ID, CLIENT_SECRET, redirect, oidc_accounts)
            providers.append(oidc.__enter__())
        settings = _console_settings(console, store_url, router.url, oidc)
        servers.append(ServerThread(create_app(settings), port=port).start())
        return Katha(console, router, graph, store_url, oidc)

    yield start
    for provider in providers:
        provider.__exit__(None, None, None)
    for server in servers:
        server.request_stop()
    for server in servers:
        server.stop()


def _console_settings(
    console: str, store_url: str, router_url: str, oidc: OidcProvider | None
) -> ConsoleSettings:
    return ConsoleSettings(
        host="127.0.0.1",
        public_url=console,
        store_url=SecretStr(store_url),
        router_url=router_url,
        router_admin_token=SecretStr(ADMIN_TOKEN),
        session_secret=SecretStr("console-session-secret-5c1e8a7f3b9d2e40"),
        secure_cookies=False,  # plain http on loopback
        oidc_issuer=oidc.issuer if oidc else None,
        oidc_client_id=CLIENT_ID if oidc else None,
        oidc_client_secret=SecretStr(CLIENT_SECRET) if oidc else None,
    )


def csp_violations(page: Page) -> list[str]:
    """What the page's Content-Security-Policy blocks from now on, as the browser reports
    it: the pages' own scripts and styles must never be among it."""
    blocked: list[str] = []
    page.on(
        "console",
        lambda message: (
            blocked.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return blocked


def sign_in_with_code(katha: Katha, page: Page) -> None:
    """The owner asks for a code for their number, reads it on WhatsApp (the Graph API
    peer), types it, and lands on their Business's conversations."""
    page.goto(f"{katha.console}/signin")
    number = page.locator('form[action="/signin/code"] input:not([type=hidden])').first
    number.fill("+" + OWNER)
    number.press("Enter")
    call = wait_for(
        lambda: [c for c in katha.sent_to(OWNER) if _code(c)], what="the code on WhatsApp"
    )[-1]
    assert call.phone_number_id == katha.router.tenants["alpha"].phone_number_id
    code = page.locator('form[action^="/signin/verify"] input:not([type=hidden])').first
    code.fill(str(_code(call)))
    code.press("Enter")
    page.wait_for_url(f"{katha.console}/b/{ALPHA}")


def act(page: Page, action: str) -> None:
    """Press a thread's button (take over, send, give back); its script reloads the page
    once the router has done it."""
    with page.expect_navigation():
        page.locator(f"form[data-action={action}] button").click()


def sign_in_with_oidc(katha: Katha, page: Page, login: str) -> None:
    """Through the provider's own pages: its login form (any password), then consent."""
    assert katha.oidc is not None
    page.goto(f"{katha.console}/signin")
    page.locator('a[href^="/signin/oidc"]').click()
    page.wait_for_url(f"{katha.oidc.issuer}/interaction/*")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", "any password will do")
    page.click("button[type=submit]")
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{katha.console}/**")


def test_an_owner_signs_in_sees_a_message_live_takes_over_replies_and_gives_it_back(
    start_katha: Callable[..., Katha], browse: Callable[[], Person]
) -> None:
    katha = start_katha()
    owner = browse()
    page = owner.page
    blocked = csp_violations(page)
    sign_in_with_code(katha, page)
    page.evaluate("window.notReloaded = true")  # gone if the page were loaded again

    katha.router.say("alpha", "Do you deliver to Peradeniya?", sender=CUSTOMER)
    conversation = katha.conversation(ALPHA, CUSTOMER)
    row = page.locator(f'li.conversation[data-id="{conversation}"]')
    expect(row).to_be_visible()  # pushed by the server (SSE), not by a reload
    assert page.evaluate("window.notReloaded") is True
    wait_for(lambda: katha.sent_to(CUSTOMER), what="the agent's first answer")

    row.locator("a").click()
    page.wait_for_url(f"**/b/{ALPHA}/c/{conversation}")
    act(page, "takeover")
    # The router writes the store in batches, a moment after it answers the console: the
    # page's own reload can come first. Once the store has it, every load shows it.
    wait_for(lambda: katha.with_person(ALPHA, CUSTOMER), what="the takeover, kept")
    page.reload()

    reply = "We deliver there on Saturdays."
    page.locator("#reply-text").fill(reply)
    act(page, "reply")
    sent = [c for c in katha.sent_to(CUSTOMER) if c.text == reply]
    assert sent[0].phone_number_id == katha.router.tenants["alpha"].phone_number_id
    wait_for(lambda: "person" in katha.authors(ALPHA, conversation), what="the reply, kept")
    page.reload()
    expect(page.locator(".bubble.person .text")).to_have_text(reply)

    act(page, "release")
    wait_for(lambda: not katha.with_person(ALPHA, CUSTOMER), what="the release")
    katha.router.say("alpha", "Great, one chocolate cake please", sender=CUSTOMER)
    answer = "alpha answers: Great, one chocolate cake please"
    wait_for(lambda: [c for c in katha.sent_to(CUSTOMER) if c.text == answer], what=answer)
    assert owner.dialogs == []
    assert blocked == []  # every script and style of the pages ran under the policy


def test_openid_connect_sign_in_shows_one_business_and_never_another(
    start_katha: Callable[..., Katha], browse: Callable[[], Person]
) -> None:
    accounts = {"amara": {"name": "Amara Perera", "katha_businesses": [f"{ALPHA}:staff"]}}
    katha = start_katha(oidc_accounts=accounts)
    katha.router.say("alpha", "Are you open on Poya day?", sender=CUSTOMER)
    katha.router.say("beta", "Is the room free tonight?", sender=CUSTOMER)
    mine, theirs = katha.conversation(ALPHA, CUSTOMER), katha.conversation(BETA, CUSTOMER)
    page = browse().page
    sign_in_with_oidc(katha, page, "amara")
    assert page.url == f"{katha.console}/b/{ALPHA}"  # the only Business: straight to it
    expect(page.locator(f'li.conversation[data-id="{mine}"]')).to_be_visible()
    assert page.locator(f'li.conversation[data-id="{theirs}"]').count() == 0

    for path in (f"/b/{ALPHA}/c/{mine}", f"/api/v1/tenants/{ALPHA}/conversations/{mine}"):
        assert _status(page, katha.console + path) == 200, path  # what 404 is set against
    csrf = _csrf_of_thread(page, katha, mine)
    for path in (
        f"/b/{BETA}",
        f"/b/{BETA}/c/{theirs}",
        f"/b/{ALPHA}/c/{theirs}",  # beta's conversation under alpha's address
        f"/api/v1/tenants/{BETA}/conversations",
        f"/api/v1/tenants/{BETA}/conversations/{theirs}",
        f"/api/v1/tenants/{BETA}/events",
    ):
        assert _status(page, katha.console + path) == 404, path
    assert _post(page, f"/api/v1/tenants/{BETA}/conversations/{theirs}/takeover", csrf) == 404
    assert _post(page, f"/api/v1/tenants/{ALPHA}/conversations/{mine}/takeover", csrf) == 200
    wait_for(lambda: katha.with_person(ALPHA, CUSTOMER), what="alpha's takeover, kept")
    assert not katha.with_person(BETA, CUSTOMER)  # written after alpha's: never came


def _status(page: Page, url: str) -> int:
    response = page.goto(url)
    assert response is not None
    return response.status


def _csrf_of_thread(page: Page, katha: Katha, conversation: str) -> str:
    page.goto(f"{katha.console}/b/{ALPHA}/c/{conversation}")
    csrf = page.locator("#actions").get_attribute("data-csrf")
    assert csrf
    return csrf


def _post(page: Page, path: str, csrf: str) -> int:
    """POST from the signed-in page, as its own scripts do (session cookie, CSRF header)."""
    status: int = page.evaluate(
        """async ([path, csrf]) => (await fetch(path, {
            method: "POST", headers: {"X-CSRF-Token": csrf, "Content-Type": "application/json"},
            body: "{}"})).status""",
        [path, csrf],
    )
    return status


def test_a_customers_markup_is_shown_as_text_and_never_runs(
    start_katha: Callable[..., Katha], browse: Callable[[], Person]
) -> None:
    katha = start_katha()
    owner = browse()
    page = owner.page
    sign_in_with_code(katha, page)
    page.evaluate("window.notReloaded = true")
    katha.router.say("alpha", MARKUP, sender=CUSTOMER)
    conversation = katha.conversation(ALPHA, CUSTOMER)
    row = page.locator(f'li.conversation[data-id="{conversation}"]')
    expect(row.locator(".preview")).to_contain_text("<script>alert(1)</script>")
    assert page.evaluate("window.notReloaded") is True  # the row came live, made by script
    page.reload()
    expect(row.locator(".preview")).to_contain_text("<script>alert(1)</script>")  # rendered
    page.goto(f"{katha.console}/b/{ALPHA}/c/{conversation}")
    expect(page.locator(".bubble.customer .text").first).to_have_text(MARKUP)
    assert page.locator("img[src=x]").count() == 0  # no element was made of the text
    assert owner.dialogs == []  # and no script of it ran
