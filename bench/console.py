"""The owner console's costs, printed as tables (issue #17):

1. What keeping every conversation costs the router: signed webhooks in, agent replies out
   through the Graph API, replies per second with the conversation store off and on (the
   ratio; the target is at least 0.9). One tenant, a fast local agent, SQLite inbox and
   SQLite store, every message from a different customer (so no sender limit applies).
2. The console's conversation list with 10,000 conversations in the store: the page and
   the JSON API, p50 and p95 over repeated requests by a signed-in owner.

    .venv/bin/python bench/console.py            # both
    .venv/bin/python bench/console.py --quick    # fewer messages and requests
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path[:] = [str(REPO)] + [p for p in sys.path if Path(p or ".").resolve() != BENCH]
sys.path.append(str(REPO / "tests" / "support"))

import httpx  # noqa: E402
from fastapi import Response  # noqa: E402
from peers.graph_api import GraphApi  # noqa: E402
from peers.loopback import ServerThread  # noqa: E402
from peers.tenant_agent import Agent  # noqa: E402
from peers.whatsapp_webhooks import notification, signed, text  # noqa: E402

from console.app import create_app as create_console  # noqa: E402
from console.auth.sessions import SESSION_COOKIE, start_session  # noqa: E402
from console.router_client import RouterAdmin  # noqa: E402
from console.services import ConsoleServices  # noqa: E402
from console.settings import ConsoleSettings  # noqa: E402
from katha.store import ConversationStore, StoreEvent, upgrade  # noqa: E402
from router.app import create_app as create_router  # noqa: E402
from router.settings import RouterSettings  # noqa: E402

TENANT = "shops/kandy-bakery"
NUMBER = "105954558954427"
APP_SECRET = "bench-app-secret-4f9a8b"


def _routes(path: Path, agent_url: str) -> None:
    route = {
        "phone_number_id": NUMBER,
        "tenant": TENANT,
        "endpoint": agent_url,
        "credentials": {
            "access_token": "EAAGbenchAccessToken0123456789",
            "app_secret": APP_SECRET,
            "verify_token": "bench-verify-7c6d5e",
        },
    }
    path.write_text(json.dumps({"routes": [route]}))


def replies_per_second(messages: int, with_store: bool) -> float:
    """Webhooks posted as fast as 16 connections allow; seconds until every reply left."""
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        graph, agent = GraphApi(), Agent(name="bench")
        graph_server = ServerThread(graph.app()).start()
        graph.url = f"{graph_server.url}/{graph.version}"
        agent_server = ServerThread(agent.app()).start()
        _routes(work / "routes.json", agent_server.url)
        store_url = None
        if with_store:
            store_url = f"sqlite:///{work / 'conversations.db'}"
            upgrade(store_url)
        settings = RouterSettings(
            routes_file=work / "routes.json",
            inbox_url=f"sqlite:///{work / 'inbox.db'}",
            graph_api_url=graph.url,
            store_url=store_url,
            recipient_rate_per_second=1000,
            number_rate_per_second=10_000,
            idle_poll_seconds=0.01,
        )
        router = ServerThread(create_router(settings)).start()
        try:
            deadline = time.monotonic() + 30
            while httpx.get(f"{router.url}/readyz").status_code != 200:
                assert time.monotonic() < deadline, "the router never became ready"
                time.sleep(0.05)
            bodies = [
                signed(notification(NUMBER, [text(f"question {n}", sender=f"9477{n:07d}")]),
                       APP_SECRET)
                for n in range(messages)
            ]  # fmt: skip
            started = time.perf_counter()
            asyncio.run(_post_all(f"{router.url}/webhooks/whatsapp", bodies))
            while len(graph.texts()) < messages:
                assert time.perf_counter() - started < 600, "the replies never all left"
                time.sleep(0.01)
            return messages / (time.perf_counter() - started)
        finally:
            for server in (router, agent_server, graph_server):
                server.stop()


async def _post_all(url: str, bodies: list[tuple[bytes, dict[str, str]]]) -> None:
    queue: asyncio.Queue[tuple[bytes, dict[str, str]]] = asyncio.Queue()
    for item in bodies:
        queue.put_nowait(item)
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=16)) as client:

        async def worker() -> None:
            while not queue.empty():
                body, headers = queue.get_nowait()
                response = await client.post(url, content=body, headers=headers)
                assert response.status_code == 200, response.text

        await asyncio.gather(*(worker() for _ in range(16)))


async def _fill(store: ConversationStore, conversations: int) -> None:
    start = datetime(2026, 11, 1, tzinfo=UTC)
    batch: list[StoreEvent] = []
    for n in range(conversations):
        at = start + timedelta(seconds=n)
        conversation = f"c-{n:08d}"
        for author, words in (("customer", f"Do you have cake {n}?"), ("agent", "Yes, we do.")):
            batch.append(
                StoreEvent(
                    event_id=f"{author}:{n}", tenant=TENANT, conversation_id=conversation,
                    at=at, author=author, text=words, language="en",  # type: ignore[arg-type]
                    customer_name=f"Customer {n}", customer_handle=f"9477{n:07d}",
                )
            )  # fmt: skip
        if len(batch) >= 2000:
            await store.record(batch)
            batch = []
    if batch:
        await store.record(batch)


def list_times(conversations: int, requests: int) -> dict[str, list[float]]:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'conversations.db'}"
        upgrade(url)
        settings = ConsoleSettings(
            store_url=url,
            router_url="http://127.0.0.1:9",  # never called: the list only reads the store
            router_admin_token="bench-admin-token-0123",
            session_secret="bench-session-secret-0123456789",
            secure_cookies=False,
            metrics_port=0,
        )

        async def prepare() -> str:
            store = ConversationStore.from_url(url)
            try:
                await _fill(store, conversations)
                admin = RouterAdmin.connect(settings.router_url, "unused")
                services = ConsoleServices(settings=settings, store=store, router=admin)
                token = await start_session(
                    services, Response(), subject="bench:owner", display="Owner",
                    tenants={TENANT: "owner"},
                )  # fmt: skip
                await admin.aclose()
                return token
            finally:
                await store.close()

        token = asyncio.run(prepare())
        console = ServerThread(create_console(settings)).start()
        try:
            namespace, name = TENANT.split("/")
            paths = {
                "page /b/…": f"/b/{namespace}/{name}",
                "API …/conversations": f"/api/v1/tenants/{namespace}/{name}/conversations",
            }
            times: dict[str, list[float]] = {label: [] for label in paths}
            with httpx.Client(base_url=console.url, cookies={SESSION_COOKIE: token}) as client:
                for label, path in paths.items():
                    assert client.get(path).status_code == 200  # warm
                    for _ in range(requests):
                        started = time.perf_counter()
                        response = client.get(path)
                        times[label].append(time.perf_counter() - started)
                        assert response.status_code == 200, response.status_code
            return times
        finally:
            console.stop()


def _p(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true")
    options = parser.parse_args()
    messages, runs = (100, 1) if options.quick else (400, 2)
    requests = 30 if options.quick else 200
    off = [replies_per_second(messages, with_store=False) for _ in range(runs)]
    on = [replies_per_second(messages, with_store=True) for _ in range(runs)]
    best_off, best_on = max(off), max(on)
    print(f"\nRouter end to end, {messages} messages, best of {runs} (replies/s)")
    print(f"{'conversation store':<22}{'replies/s':>12}")
    print(f"{'off':<22}{best_off:>12.1f}")
    print(f"{'on (SQLite)':<22}{best_on:>12.1f}")
    print(f"{'ratio on/off':<22}{best_on / best_off:>12.2f}   (target ≥ 0.90)")
    times = list_times(10_000, requests)
    print(f"\nConsole list, 10,000 conversations, {requests} requests each (ms)")
    print(f"{'request':<24}{'p50':>8}{'p95':>8}{'mean':>8}")
    for label, values in times.items():
        mean = statistics.fmean(values) * 1000
        print(f"{label:<24}{_p(values, 0.5):>8.1f}{_p(values, 0.95):>8.1f}{mean:>8.1f}")


if __name__ == "__main__":
    main()
