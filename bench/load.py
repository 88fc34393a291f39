"""Customers writing to a running `katha up`, as cheaply for the load generator as it can be.

The bench shares two cores with what it measures, so every millisecond of CPU the load
generator spends is one Katha cannot: one asyncio loop sends the signed webhooks over a
pooled connection, and one long-poll of the local Graph API's outbox (every recipient at
once) collects the replies, instead of a client, a window call and a poll per customer.
Every customer's 24-hour window is opened before the clock starts, in one call per tenant,
as Meta would know of each message before the business does.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from dataclasses import dataclass

import httpx

from katha_cli.local.chat import INBOUND_PATH, WEBHOOK_PATH, webhook_body
from katha_cli.local.state import TenantInfo, UpState
from router.signature import sign

REPLY_TIMEOUT_SECONDS = 60.0
POLL_SECONDS = 5.0


@dataclass(frozen=True)
class Question:
    tenant: str  # the tenant's name (its Business's metadata.name)
    text: str


@dataclass
class Round:
    latencies: list[float]  # webhook posted -> first part of its reply in the outbox
    failed: int
    elapsed: float


def customers(offset: int, count: int) -> list[str]:
    """One number per message: no customer writes twice, so no sender limit applies."""
    return [f"9471{offset + n:07d}" for n in range(count)]


def run_round(
    state: UpState, questions: list[Question], count: int, concurrency: int, offset: int
) -> Round:
    """`count` messages, `concurrency` in flight at a time, cycling through `questions`."""
    return asyncio.run(_round(state, questions, count, concurrency, offset))


async def _round(
    state: UpState, questions: list[Question], count: int, concurrency: int, offset: int
) -> Round:
    tenants = {tenant.name: tenant for tenant in state.tenants}
    numbers = customers(offset, count)
    limits = httpx.Limits(
        max_connections=concurrency + 4, max_keepalive_connections=concurrency + 4
    )
    async with httpx.AsyncClient(timeout=REPLY_TIMEOUT_SECONDS, limits=limits) as client:
        await _open_windows(client, state, tenants, questions, numbers)
        replies = Replies(client, state.graph_url, await _last_seq(client, state.graph_url))
        poller = asyncio.create_task(replies.poll())
        gate = asyncio.Semaphore(concurrency)

        async def one(n: int) -> float | None:
            question = questions[n % len(questions)]
            async with gate:
                return await _ask(
                    client, state, tenants[question.tenant], numbers[n], question.text, replies
                )

        started = time.perf_counter()
        results = await asyncio.gather(*(one(n) for n in range(count)))
        elapsed = time.perf_counter() - started
        if poller.done():  # it failed: every reply it missed counted as failed
            poller.result()
        poller.cancel()
    latencies = [result for result in results if result is not None]
    return Round(latencies, len(results) - len(latencies), elapsed)


async def _open_windows(
    client: httpx.AsyncClient,
    state: UpState,
    tenants: dict[str, TenantInfo],
    questions: list[Question],
    numbers: list[str],
) -> None:
    """One inbound notice per tenant naming every customer who will write to it."""
    for name, tenant in tenants.items():
        mine = [n for i, n in enumerate(numbers) if questions[i % len(questions)].tenant == name]
        if not mine:
            continue
        body = webhook_body(tenant, mine[0], "Katha bench", "wamid.bench.window", "hi")
        value = body["entry"][0]["changes"][0]["value"]
        value["messages"] = [{**value["messages"][0], "from": number} for number in mine]
        response = await client.post(state.graph_url + INBOUND_PATH, json=body)
        response.raise_for_status()


async def _last_seq(client: httpx.AsyncClient, graph_url: str) -> int:
    response = await client.get(f"{graph_url}/outbox/last")
    response.raise_for_status()
    return int(response.json()["seq"])


async def _ask(
    client: httpx.AsyncClient,
    state: UpState,
    tenant: TenantInfo,
    number: str,
    text: str,
    replies: Replies,
) -> float | None:
    message_id = "wamid.bench." + secrets.token_hex(12)
    raw = json.dumps(webhook_body(tenant, number, "Katha bench", message_id, text)).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Hub-Signature-256": sign(raw, tenant.app_secret.encode()),
    }
    arrived = replies.expect(message_id)
    started = time.perf_counter()
    try:
        response = await client.post(state.router_url + WEBHOOK_PATH, content=raw, headers=headers)
        if response.status_code != 200:
            return None
        at = await asyncio.wait_for(arrived, REPLY_TIMEOUT_SECONDS)
    except (httpx.HTTPError, TimeoutError):
        return None
    finally:
        replies.forget(message_id)
    return at - started


class Replies:
    """One long-poll of the whole outbox; each awaited reply is resolved when its first
    part arrives (a reply's `context.message_id` names the customer's message)."""

    def __init__(self, client: httpx.AsyncClient, graph_url: str, after: int) -> None:
        self._client, self._url, self._after = client, graph_url, after
        self._waiting: dict[str, asyncio.Future[float]] = {}

    def expect(self, message_id: str) -> asyncio.Future[float]:
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._waiting[message_id] = future
        return future

    def forget(self, message_id: str) -> None:
        self._waiting.pop(message_id, None)

    async def poll(self) -> None:
        while True:
            params = {"after": self._after, "wait": POLL_SECONDS}
            response = await self._client.get(
                f"{self._url}/outbox", params=params, timeout=POLL_SECONDS + 10
            )
            response.raise_for_status()
            now = time.perf_counter()
            for message in response.json()["messages"]:
                self._after = max(self._after, int(message["seq"]))
                future = self._waiting.get(message.get("reply_to") or "")
                if future is not None and not future.done():
                    future.set_result(now)
