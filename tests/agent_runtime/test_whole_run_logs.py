"""A whole run's logs hold no customer text, phone number or secret.

The router runs as in production (`python -m router`, JSON logs to a file) in front of the
real agent app (a real LanceDB index, served by uvicorn with its access log on, logging
configured as in a replica), with loopback peers for the Graph API, SearXNG and an LLM.
Secrets and a unique customer phrase are planted everywhere they can be, and things go
wrong on purpose: a Graph API error, a failing LLM, a web search that fails, bodies that
fail validation. Afterwards both logs are read whole: every event is there, nothing
planted is.
"""

import io
import json
import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from peers.graph_api import GraphApi
from peers.loopback import ServerThread, serve_http
from peers.openai_compatible import RefusingModel
from peers.web_search import SearxngServer
from peers.whatsapp_webhooks import message, notification, signed, text
from ports import free_port

sys.path.insert(0, str(Path(__file__).parents[1] / "router"))

from harness import RouterProcess, Tenant, wait_for

from agent_runtime.api.app import create_app
from katha.observability import configure_logging

from .bakery import bakery_spec
from .conftest import AgentFactory

pytestmark = pytest.mark.slow

MARKER = "pol-sambola-x7q2k9"  # the customer's own words, unique enough to grep for
CUSTOMER = "94771234567"
OTHER_CUSTOMER = "94779876543"
LLM_KEY = "sk-proj-Wh0leRunKey8f3b2c1d9e7a6"
WRONG_VERIFY_TOKEN = "guessed-verify-9d8c7b"


@pytest.fixture
def model_url() -> Iterator[str]:
    with serve_http(RefusingModel) as base:
        yield f"{base}/v1"


@pytest.fixture
def servers() -> Iterator[list[ServerThread]]:
    started: list[ServerThread] = []
    yield started
    for server in started:
        server.stop()


def test_a_whole_run_logs_no_customer_text_phone_number_or_secret(
    make_agent: AgentFactory,
    searxng: SearxngServer,
    model_url: str,
    servers: list[ServerThread],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    agent_log = io.StringIO()
    configure_logging("DEBUG", "json", agent_log)  # as a replica does, at its most verbose
    monkeypatch.setenv("WHOLE_RUN_LLM_KEY", LLM_KEY)
    web = {"enabled": True, "provider": "searxng", "url": searxng.base}
    agent = make_agent(
        spec=bakery_spec(webSearch=web),
        settings={"web_search_timeout_seconds": 0.3},
        llm={"base_url": model_url, "model": "sinhala-llm", "api_key_env": "WHOLE_RUN_LLM_KEY"},
    )
    agent_server = ServerThread(create_app(agent))
    graph = GraphApi()
    graph_server = ServerThread(graph.app())
    # uvicorn's access log on (each Config with access_log=False turns it off process-wide):
    # the noisiest a deployment could be.
    monkeypatch.setattr(logging.getLogger("uvicorn.access"), "propagate", True)
    servers.extend([agent_server.start(), graph_server.start()])
    graph.url = f"{graph_server.url}/{graph.version}"
    graph.failures = [(500, 2)]  # the first call fails (Graph API "service unavailable")
    tenant = Tenant.named("mihiri", "105954558954427", agent_server.url)  # BAKERY
    router = RouterProcess(
        tmp_path, f"sqlite://{tmp_path / 'inbox.db'}", graph, [tenant], free_port()
    )
    router.env["KATHA_ROUTER_LOG_LEVEL"] = "DEBUG"  # its most verbose too
    router.start()
    try:
        subscribe = f"{router.url}/webhooks/whatsapp"
        for token in (tenant.verify_token, WRONG_VERIFY_TOKEN):
            params = {"hub.mode": "subscribe", "hub.verify_token": token, "hub.challenge": "42"}
            httpx.get(subscribe, params=params)
        # A question the knowledge misses: the web is searched and answers; the model that
        # should write the reply refuses the key, so the grounded responder does.
        searxng.results = [
            {"url": "https://kandy.lk/perahera", "title": "Perahera", "content": "In August."}
        ]
        router.say("mihiri", f"{MARKER} do you know the Kandy perahera dates?", sender=CUSTOMER)
        wait_for(lambda: len(graph.texts()) >= 1, timeout=30, what="the first reply")
        # Then the web search fails (times out) for another customer.
        searxng.delay = 1.0
        router.say("mihiri", f"{MARKER} which hotel is near the lake?", sender=OTHER_CUSTOMER)
        wait_for(lambda: len(graph.texts()) >= 2, timeout=30, what="the second reply")
        # Bodies that fail validation, signed, with the customer's words in them.
        bad_time = message("text", {"body": MARKER}, sender=CUSTOMER) | {"timestamp": MARKER}
        huge = text(f"{MARKER} " * 9000, sender=CUSTOMER)
        for bad in (bad_time, huge):
            router.post(notification(tenant.phone_number_id, [bad]), tenant.app_secret)
        body, headers = signed(f'{{"entry": "{MARKER}'.encode(), tenant.app_secret)
        httpx.post(subscribe, content=body, headers=headers)
        invalid = {"message_id": "wamid.x", "tenant": "tenants/mihiri", "text": MARKER}
        assert httpx.post(f"{agent_server.url}/v1/messages", json=invalid).status_code == 422
        wait_for(
            lambda: router.log.read_text().count('"reply.sent"') >= 2,
            what="both replies in the router's log",
        )
    except AssertionError as error:  # say what each side logged before it went wrong
        tails = f"router:\n{router.log.read_text()[-4000:]}\nagent:\n{agent_log.getvalue()[-4000:]}"
        raise AssertionError(f"{error}\n{tails}") from error
    finally:
        router.stop()

    router_log = router.log.read_text()
    logs = {"router": router_log, "agent": agent_log.getvalue()}
    planted = {
        "access token": tenant.access_token,
        "app secret": tenant.app_secret,
        "verify token": tenant.verify_token,
        "guessed verify token": WRONG_VERIFY_TOKEN,
        "LLM API key": LLM_KEY,
        "customer's words": MARKER,
        "customer's number": CUSTOMER,
        "other customer's number": OTHER_CUSTOMER,
    }
    leaks = [
        f"{what} in the {component}'s log"
        for component, log in logs.items()
        for what, secret in planted.items()
        if secret in log
    ]
    assert not leaks, leaks
    router_events = {json.loads(line)["event"] for line in router_log.splitlines() if line}
    assert {"webhook.subscribed", "message.accepted", "reply.sent"} <= router_events
    # The Graph API's failure is logged (the read receipt or the reply, whichever met it).
    assert router_events & {"graph.retry", "reply.failed", "message.read_failed"}, router_events
    agent_lines = [json.loads(line) for line in logs["agent"].splitlines() if line]
    agent_events = {line["event"] for line in agent_lines}
    assert {"web_search.done", "web_search.failed", "generation.failed"} <= agent_events
    assert any('"POST /v1/messages HTTP/1.1" 422' in event for event in agent_events)
