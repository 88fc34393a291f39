"""Chaos: a steady flow of signed webhooks for two tenants while the router process is
SIGKILLed and restarted, redis-server (appendonly off) is restarted empty, one agent is
stopped and started again, and poison entries land in the inbox.

What the router guarantees, and so what is counted:
- A webhook that does not get 200 is sent again (as Meta does) until it gets 200.
- Every message that got 200 and is not poison gets exactly one reply, except those
  "at risk" at the Redis restart: accepted, not yet answered, and (appendonly off) kept
  only in Redis's memory. Those may be lost by definition; each gets at most one reply,
  and how many were lost is printed. (Messages the router had already read stay in its
  memory and are still answered.)
- Poison entries end in the dead letters; the queue never stops.
The router and Redis are killed while both answer slots wait on the agents, so no reply
is between the Graph API and its sent-marker: that window is at-least-once by design
(see Worker._send) and is not what this test is about.
"""

import subprocess
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import poison
import pytest
from harness import RouterProcess, Tenant, wait_for
from peers.graph_api import GraphApi
from peers.loopback import ServerThread
from peers.tenant_agent import Agent
from peers.whatsapp_webhooks import notification, signed, text
from ports import free_port
from restartable_redis import RestartableRedis

pytestmark = pytest.mark.slow

MESSAGES = 240
SENDERS = 20  # customers per tenant: a handful of messages each, within the sender rate
PACE_SECONDS = 0.03
ADMIN_TOKEN = "admin-token-chaos-0123456789"


@dataclass
class Flow:
    """Posts MESSAGES signed webhooks, alternating tenants, each until it gets 200."""

    url: str
    tenants: dict[str, Tenant]
    accepted: dict[str, str] = field(default_factory=dict)  # message id -> tenant
    not_accepted: list[str] = field(default_factory=list)
    refused_posts: int = 0  # non-200 answers and connection errors, each posted again
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        with httpx.Client(timeout=10) as client:
            for n in range(MESSAGES):
                if self.stop.is_set():
                    return
                tenant = self.tenants[("alpha", "beta")[n % 2]]
                sender = f"9477{(n // 2) % SENDERS:07d}"
                message = text(f"question {n} for {tenant.name}", sender=sender)
                body, headers = signed(
                    notification(tenant.phone_number_id, [message]), tenant.app_secret
                )
                self._deliver(client, str(message["id"]), tenant.name, body, headers)
                time.sleep(PACE_SECONDS)  # the flow's pace, not a wait for anything

    def _deliver(
        self, client: httpx.Client, ident: str, tenant: str, body: bytes, headers: dict[str, str]
    ) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not self.stop.is_set():
            # Held while posting and recording, so a snapshot under the lock sees every
            # 200 that the router has given.
            with self.lock:
                try:
                    status = client.post(
                        f"{self.url}/webhooks/whatsapp", content=body, headers=headers
                    ).status_code
                except httpx.HTTPError:
                    status = 0
                if status == 200:
                    self.accepted[ident] = tenant
                    return
                self.refused_posts += 1
            time.sleep(0.05)  # Meta's retry, compressed
        self.not_accepted.append(ident)

    def count(self) -> int:
        with self.lock:
            return len(self.accepted)


def replies(graph: GraphApi) -> Counter[str | None]:
    return Counter(call.reply_to for call in graph.texts())


def both_agents_busy(agents: dict[str, tuple[Agent, ServerThread]]) -> bool:
    return all(agent.in_flight == 1 for agent, _ in agents.values())


def test_every_good_message_gets_one_reply_through_kills_restarts_and_poison(
    tmp_path: Path,
    graph: GraphApi,
    agents: dict[str, tuple[Agent, ServerThread]],
    tenants: dict[str, Tenant],
    servers: list[ServerThread],
) -> None:
    port = free_port()
    faults: Counter[str] = Counter()
    redis_server = RestartableRedis(tmp_path).start()
    routers: list[RouterProcess] = []

    def start_router() -> RouterProcess:
        router = RouterProcess(tmp_path, redis_server.url, graph, list(tenants.values()), port)
        # Two answer slots, one per tenant: "both agents busy" then means nothing else is
        # in flight. The pseudonym key is set, as a deployment with several replicas does.
        router.env.update(
            KATHA_ROUTER_TOTAL_CONCURRENCY="2",
            KATHA_ROUTER_TENANT_CONCURRENCY="1",
            KATHA_ROUTER_ADMIN_TOKEN=ADMIN_TOKEN,
            KATHA_ROUTER_PSEUDONYM_KEY="chaos-pseudonym-key-0123456789",
        )
        routers.append(router)
        return router.start()

    flow = Flow(start_router().url, {t.name: t for t in tenants.values()})
    sender = threading.Thread(target=flow.run, daemon=True)
    sender.start()
    alpha, beta = agents["alpha"][0], agents["beta"][0]
    at_risk: set[str] = set()
    poison_statuses: list[int] = []
    hung: list[RouterProcess] = []
    try:
        # 1. The router is SIGKILLed while both slots wait on slow agents.
        wait_for(lambda: flow.count() >= MESSAGES // 6, timeout=30, what="the flow")
        alpha.delay = beta.delay = 0.3
        wait_for(lambda: both_agents_busy(agents), what="both agents answering")
        routers[-1].kill()
        faults["router killed"] += 1
        alpha.delay = beta.delay = 0.0
        start_router()

        # 2. Alpha's agent stops (its server goes away) while the flow goes on.
        wait_for(lambda: flow.count() >= MESSAGES // 3, timeout=30, what="the flow")
        alpha_server = agents["alpha"][1]
        alpha_server.stop()
        faults["agent stopped"] += 1
        stopped_at = flow.count()
        wait_for(lambda: flow.count() >= stopped_at + 20, timeout=30, what="the flow")
        servers.append(ServerThread(alpha.app(), port=alpha_server.port).start())

        # 3. Redis restarts empty (appendonly off) while both slots wait on the agents.
        wait_for(lambda: flow.count() >= MESSAGES // 2, timeout=30, what="the flow")
        alpha.delay = beta.delay = 0.3
        wait_for(lambda: both_agents_busy(agents), what="both agents answering")
        with flow.lock:  # no webhook is being accepted while the snapshot is taken
            answered = set(replies(graph))
            redis_server.kill()
            at_risk = set(flow.accepted) - answered
        faults["redis restarted empty"] += 1
        redis_server.start()
        alpha.delay = beta.delay = 0.0

        # 4. Poison: entries written straight into the stream, and a 1e400 location.
        wait_for(lambda: flow.count() >= 2 * MESSAGES // 3, timeout=30, what="the flow")
        for kind in poison.KINDS:
            poison.write(redis_server.url, kind, tenant="tenants/beta", conversation="c-chaos")
            faults["poison entries"] += 1
        beta_tenant = tenants["beta"]
        body, headers = signed(
            poison.location_1e400(beta_tenant.phone_number_id), beta_tenant.app_secret
        )
        poison_statuses.append(
            httpx.post(f"{flow.url}/webhooks/whatsapp", content=body, headers=headers).status_code
        )
        faults["poison webhooks"] += 1

        sender.join(timeout=60)
        assert not sender.is_alive(), "the flow did not finish"
        assert flow.not_accepted == [], "webhooks never accepted"
        must_answer = set(flow.accepted) - at_risk
        wait_for(lambda: must_answer <= set(replies(graph)), timeout=30, what="every good reply")
        client = redis_server.client()
        # Nothing left to deliver again: every entry answered and acknowledged.
        wait_for(
            lambda: (
                client.xlen(poison.STREAM) == 0
                and client.xpending(poison.STREAM, "router")["pending"] == 0
            ),
            timeout=30,
            what="an empty inbox",
        )
        client.close()
        dead = httpx.get(
            f"{flow.url}/admin/dead-letters", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
        ).json()["dead_letters"]
    finally:
        flow.stop.set()
        for router in routers:
            try:
                router.stop()
            except subprocess.TimeoutExpired:
                router.kill()
                hung.append(router)
        redis_server.kill()

    assert hung == [], "the router did not stop on SIGTERM"
    counts = replies(graph)
    lost = {ident for ident in at_risk if counts[ident] == 0}
    print(
        f"\nchaos: {MESSAGES} messages sent for 2 tenants, {flow.refused_posts} posts refused"
        f" and sent again; faults: {dict(faults)}; {sum(counts.values())} replies counted;"
        f" {len(dead)} dead letters; {len(at_risk)} at risk at the Redis restart,"
        f" {len(lost)} of them lost; poison webhook answered {poison_statuses}"
    )
    assert all(status < 500 for status in poison_statuses)
    twice = {ident: n for ident, n in counts.items() if n > 1}
    assert twice == {}, "messages answered more than once"
    assert {ident for ident in must_answer if counts[ident] != 1} == set()
    assert set(counts) <= set(flow.accepted), "a reply to something never accepted"
    assert {letter["reason"] for letter in dead} >= {
        "invalid_json",
        "invalid_message",
        "missing_body",
    }
    assert len(dead) >= faults["poison entries"]
