"""A router killed after the 200 and before the reply sends that reply exactly once after
it restarts on the same inbox (SIGKILL: no shutdown code runs)."""

import time

import pytest
from harness import RouterProcess, Tenant, wait_for
from peers.graph_api import GraphApi
from peers.loopback import ServerThread
from peers.tenant_agent import Agent
from ports import free_port

pytestmark = pytest.mark.slow


def test_router_killed_before_the_reply_answers_once_after_restart(
    tmp_path: pytest.TempPathFactory,
    inbox_url: str,
    graph: GraphApi,
    agents: dict[str, tuple[Agent, ServerThread]],
    tenants: dict[str, Tenant],
) -> None:
    agent = agents["alpha"][0]
    agent.delay = 2.0  # the router dies while the agent is thinking
    first = RouterProcess(tmp_path, inbox_url, graph, list(tenants.values()), free_port())  # type: ignore[arg-type]
    first.start()
    try:
        message_id = first.say("alpha", "Kiyada wahanne?")
        wait_for(lambda: agent.in_flight == 1, what="the forward to the agent")
        first.kill()
    finally:
        first.stop()
    agent.delay = 0.0
    second = RouterProcess(tmp_path, inbox_url, graph, list(tenants.values()), free_port())  # type: ignore[arg-type]
    second.start()
    try:
        wait_for(lambda: graph.texts(), timeout=20, what="the reply after restart")
        time.sleep(1.5)  # anything sent twice would arrive by now (the lease is 1 s)
        replies = [call for call in graph.texts() if call.reply_to == message_id]
        assert len(replies) == 1
        assert replies[0].text == "alpha answers: Kiyada wahanne?"
    finally:
        second.stop()
