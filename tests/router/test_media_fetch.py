"""How the router fetches a customer's media from the Graph API when Meta's answers go
wrong: a download URL off Meta's hosts never gets the tenant's token, a download that
trickles in forever is cut off by an overall deadline, and an outage longer than the
client's own retries makes the message wait in the inbox for a later try instead of
losing its media for good."""

from collections.abc import Callable

import httpx
import pytest
from harness import RouterHarness, Tenant, wait_for
from media_files import JPEG
from media_sent import media_of, send_media
from peers.graph_api import DOWNLOAD_PATH, GraphApi, MediaFile
from peers.loopback import ServerThread
from peers.tenant_agent import Agent

from router.graph_api import GraphApiClient
from router.http import JsonPoster
from router.limits import TokenBuckets

Agents = dict[str, tuple[Agent, ServerThread]]
SENDER = "94770007777"


@pytest.fixture
def token(tenants: dict[str, Tenant]) -> str:
    """Alpha reads images; its access token."""
    tenants["alpha"].extra["accepts"] = ["text", "image"]
    return tenants["alpha"].access_token


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1", True),
        ("https://mmg.whatsapp.net/v/t62/abc.enc", True),
        ("https://scontent.xx.fbcdn.net/v/abc", True),
        ("https://lookaside.fbsbx.com:443/x", True),
        ("http://127.0.0.1:8777/whatsapp_business/attachments/?mid=1", True),  # the Graph API's
        ("http://lookaside.fbsbx.com/x", False),  # the token in clear text
        ("https://lookaside.fbsbx.com:8443/x", False),
        ("https://lookaside.fbsbx.com.attacker.example/x", False),
        ("https://attackerfbsbx.com/x", False),
        ("https://attacker.example\\@lookaside.fbsbx.com/x", False),  # userinfo
        ("https://attacker.example/lookaside.fbsbx.com", False),
        ("http://127.0.0.1:8778/x", False),  # another port on the same machine
        ("http://localhost:8777/x", False),
        ("https://127.0.0.1:8777/x", False),
        ("file:///etc/passwd", False),
        ("not a url", False),
    ],
)
async def test_only_metas_media_hosts_or_the_graph_api_itself_get_the_token(
    url: str, allowed: bool
) -> None:
    buckets = TokenBuckets(1.0, 1.0)
    async with httpx.AsyncClient() as http:  # no request is made: only the URL is judged
        graph = GraphApiClient(
            http,
            "http://127.0.0.1:8777/v23.0",
            poster=JsonPoster(1, 1.0),
            per_number=buckets,
            per_recipient=buckets,
        )
        assert graph.may_download(url) is allowed


def test_a_download_url_off_metas_hosts_is_never_requested(
    start_router: Callable[..., RouterHarness],
    graph: GraphApi,
    agents: Agents,
    servers: list[ServerThread],
    token: str,
) -> None:
    # Another server on this machine holds the file and would serve it to the token.
    elsewhere = GraphApi()
    server = ServerThread(elsewhere.app()).start()
    servers.append(server)
    elsewhere.media["7101"] = MediaFile(JPEG, "image/jpeg", token)
    query = f"mid=7101&hash={elsewhere.url_secret}"
    graph.media["7101"] = MediaFile(
        JPEG, "image/jpeg", token, url=f"{server.url}{DOWNLOAD_PATH}?{query}"
    )
    graph.media["7102"] = MediaFile(
        JPEG, "image/jpeg", token, url="https://lookaside.fbsbx.com.attacker.example/x"
    )
    router = start_router()
    agent = agents["alpha"][0]
    for media_id in ("7101", "7102"):
        media = media_of(agent, send_media(router, "alpha", "image", {"id": media_id}, SENDER))
        assert (media.unavailable, media.content) == ("download_failed", None)
        assert [call.step for call in graph.calls_for(media_id)] == ["metadata"]
    assert elsewhere.media_calls == []


def test_a_download_that_trickles_in_is_cut_off_by_its_deadline(
    start_router: Callable[..., RouterHarness], graph: GraphApi, agents: Agents, token: str
) -> None:
    # One byte every 0.1 s never trips a per-read timeout (5 s here) nor the size limit.
    router = start_router(media_fetch_seconds=0.5, media_fetch_attempts=1)
    graph.media["7201"] = MediaFile(JPEG, "image/jpeg", token, trickle=True)
    media = media_of(
        agents["alpha"][0], send_media(router, "alpha", "image", {"id": "7201"}, SENDER)
    )
    assert (media.unavailable, media.content) == ("download_failed", None)
    wait_for(lambda: "7201" in graph.abandoned, what="the router to hang up")


def test_an_outage_past_the_clients_retries_is_tried_again_later_then_given_up(
    start_router: Callable[..., RouterHarness], graph: GraphApi, agents: Agents, token: str
) -> None:
    router = start_router(graph_max_attempts=2, media_fetch_attempts=2)
    agent = agents["alpha"][0]
    # Both of the client's tries fail; the message's next try finds Meta back.
    graph.media["7301"] = MediaFile(JPEG, "image/jpeg", token)
    graph.download_failures.extend([503, 503])
    recovered = media_of(agent, send_media(router, "alpha", "image", {"id": "7301"}, SENDER))
    assert (recovered.unavailable, recovered.content) == (None, JPEG)
    assert [call.step for call in graph.calls_for("7301")] == ["metadata", "download"] * 3
    metrics = router.metrics()
    assert 'media_total{outcome="retry_later",tenant="tenants/alpha",type="image"} 1.0' in metrics
    assert 'media_total{outcome="fetched",tenant="tenants/alpha",type="image"} 1.0' in metrics

    # Still failing at the message's last try: the agent is told, the customer answered.
    graph.media["7302"] = MediaFile(JPEG, "image/jpeg", token)
    graph.download_failures.extend([500] * 4)
    failed = media_of(agent, send_media(router, "alpha", "image", {"id": "7302"}, SENDER))
    assert (failed.unavailable, failed.content) == ("download_failed", None)
    assert len(graph.calls_for("7302")) == 8  # two tries of the message, two calls each
