"""When turned on, each reply carries the agent's language, intent and sources as Graph's
`biz_opaque_callback_data`, within 512 characters; off by default (source URIs can be
internal addresses, and they would go to Meta)."""

from collections.abc import Callable

import pytest
from harness import RouterHarness, wait_for
from peers.graph_api import GraphApi
from peers.loopback import ServerThread
from peers.tenant_agent import Agent

from katha.contracts.messages import (
    TRACKING_MAX_CHARS,
    AgentReply,
    InboundMessage,
    ReplyTracking,
    Source,
)

Agents = dict[str, tuple[Agent, ServerThread]]


def sourced(message: InboundMessage) -> AgentReply:
    return AgentReply(
        message_id=message.message_id,
        text="කිලෝ 1ක් රු. 1,200යි.",
        language="si",
        intent="question",
        confidence=0.8123,
        sources=[Source(title="Menu", uri="file://menu.pdf", locator="page 2")],
    )


def test_reply_carries_language_and_sources(
    start_router: Callable[..., RouterHarness], graph: GraphApi, agents: Agents
) -> None:
    agents["alpha"][0].answer = sourced
    router = start_router(reply_tracking=True)
    router.say("alpha", "keeyada kilo ekak?")
    (call,) = wait_for(lambda: graph.texts(), what="the reply")
    tracking = ReplyTracking.decode(call.body["biz_opaque_callback_data"])
    assert tracking == ReplyTracking(
        language="si", intent="question", confidence=0.812, sources=["file://menu.pdf#page 2"]
    )


def test_tracking_is_off_by_default(
    start_router: Callable[..., RouterHarness], graph: GraphApi, agents: Agents
) -> None:
    agents["alpha"][0].answer = sourced
    router = start_router()
    router.say("alpha", "keeyada kilo ekak?")
    (call,) = wait_for(lambda: graph.texts(), what="the reply")
    assert "biz_opaque_callback_data" not in call.body


@pytest.mark.parametrize("count", [0, 1, 40])
def test_sources_that_do_not_fit_are_left_out_whole(count: int) -> None:
    uris = [f"https://shop.example.lk/{'page-' * 8}{n}" for n in range(count)]
    reply = AgentReply(
        message_id="wamid.1",
        text="ok",
        language="en",
        sources=[Source(uri=uri) for uri in uris],
    )
    encoded = ReplyTracking.of(reply).encode()
    assert len(encoded) <= TRACKING_MAX_CHARS
    decoded = ReplyTracking.decode(encoded)
    assert decoded is not None
    assert decoded.sources == uris[: len(decoded.sources)]
    assert len(decoded.sources) == count if count < 2 else 0 < len(decoded.sources) < count


def test_decoding_garbage_gives_none() -> None:
    assert ReplyTracking.decode("not json") is None
    assert ReplyTracking.decode(None) is None
