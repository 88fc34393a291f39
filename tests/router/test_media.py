"""A customer's voice note, photo or document: the router fetches it from the Graph API with
the tenant's token, hands the agent the bytes, keeps the file beside the conversation for
the owner console (which the admin API serves), and deletes it with the conversation."""

import asyncio
import hashlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from audio import voice_note
from harness import RouterHarness, Tenant, wait_for
from media_files import PDF, photo
from media_sent import received, send_media
from peers.graph_api import GraphApi, MediaFile
from peers.loopback import ServerThread
from peers.tenant_agent import Agent
from structlog.testing import capture_logs

from katha.store import ConversationStore, StoredMedia, upgrade

Agents = dict[str, tuple[Agent, ServerThread]]
ADMIN = "admin-token-for-media-tests-7d2c"
CUSTOMER = "94770005555"
MEDIA_TYPES = ["text", "image", "audio", "video", "document", "sticker"]


@pytest.fixture(scope="module")
def spoken() -> bytes:
    return voice_note("en", "Do you have this saree in red?")


def read_store(url: str, call: Callable[[ConversationStore], Any]) -> Any:
    async def run() -> Any:
        store = ConversationStore.from_url(url)
        try:
            return await call(store)
        finally:
            await store.close()

    return asyncio.run(run())


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'conversations.db'}"
    upgrade(url)
    return url


@pytest.fixture
def media_router(
    start_router: Callable[..., RouterHarness], tenants: dict[str, Tenant], store_url: str
) -> RouterHarness:
    """The router with a conversation store and admin calls; both tenants read media."""
    for tenant in tenants.values():
        tenant.extra["accepts"] = MEDIA_TYPES
    return start_router(store_url=store_url, admin_token=ADMIN)


def test_a_voice_note_a_photo_and_a_pdf_reach_the_agent_with_the_bytes_meta_served(
    media_router: RouterHarness,
    graph: GraphApi,
    agents: Agents,
    tenants: dict[str, Tenant],
    store_url: str,
    spoken: bytes,
) -> None:
    token = tenants["alpha"].access_token
    files = {
        "1001": MediaFile(spoken, "audio/ogg; codecs=opus", token),
        "1002": MediaFile(photo(), "image/png", token),
        "1003": MediaFile(PDF, "application/pdf", token),
    }
    graph.media.update(files)
    with capture_logs() as logs:
        sent = {
            "1001": send_media(
                media_router,
                "alpha",
                "audio",
                {"id": "1001", "mime_type": "audio/ogg; codecs=opus", "voice": True},
                CUSTOMER,
            ),
            "1002": send_media(media_router, "alpha", "image", {"id": "1002"}, CUSTOMER),
            "1003": send_media(
                media_router,
                "alpha",
                "document",
                {"id": "1003", "mime_type": "application/pdf", "filename": "order list.pdf"},
                CUSTOMER,
            ),
        }
        got = {media_id: received(agents["alpha"][0], sent[media_id]) for media_id in files}
    for media_id, file in files.items():
        media = got[media_id].media
        assert media is not None
        assert media.content == file.content
        assert media.size == len(file.content)
        assert media.unavailable is None
        calls = graph.calls_for(media_id)
        assert [call.step for call in calls] == ["metadata", "download"]
        assert {call.authorization for call in calls} == {f"Bearer {token}"}
    assert got["1001"].media is not None
    assert got["1001"].media.voice
    assert got["1002"].media is not None
    assert got["1002"].media.mime_type == "image/png"
    # Neither the token nor the download URL's credentials nor a body reach the log.
    logged = repr(logs)
    assert token not in logged
    assert graph.url_secret not in logged
    assert any(entry["event"] == "media.fetched" for entry in logs)
    kept: StoredMedia = wait_for(
        lambda: read_store(store_url, lambda store: store.media("tenants/alpha", "1003")),
        what="the PDF in the conversation store",
    )
    assert kept.content == PDF
    assert kept.sha256 == hashlib.sha256(PDF).hexdigest()
    assert (kept.kind, kept.mime_type, kept.filename) == (
        "document",
        "application/pdf",
        "order list.pdf",
    )
    assert kept.conversation_id == got["1003"].conversation_id
    metrics = media_router.metrics()
    assert 'media_total{outcome="fetched",tenant="tenants/alpha",type="audio"} 1.0' in metrics
    assert (
        f'media_bytes_total{{tenant="tenants/alpha",type="document"}} {float(len(PDF))}' in metrics
    )


def test_the_admin_api_serves_a_customers_media_to_its_business_only(
    media_router: RouterHarness, graph: GraphApi, agents: Agents, tenants: dict[str, Tenant]
) -> None:
    image = photo()
    graph.media["2001"] = MediaFile(image, "image/png", tenants["alpha"].access_token)
    received(
        agents["alpha"][0], send_media(media_router, "alpha", "image", {"id": "2001"}, CUSTOMER)
    )
    url = f"{media_router.url}/admin/tenants/tenants/alpha/media/2001"
    admin = {"Authorization": f"Bearer {ADMIN}"}

    assert httpx.get(url).status_code == 401
    assert httpx.get(url, headers={"Authorization": "Bearer wrong"}).status_code == 401
    other = f"{media_router.url}/admin/tenants/tenants/beta/media/2001"
    assert httpx.get(other, headers=admin).status_code == 404
    missing = f"{media_router.url}/admin/tenants/tenants/alpha/media/2999"
    assert httpx.get(missing, headers=admin).status_code == 404

    served = wait_for(lambda: (r := httpx.get(url, headers=admin)).status_code == 200 and r)
    assert served.content == image
    assert served.headers["content-type"] == "image/png"
    assert served.headers["cache-control"] == "no-store, private"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert "etag" not in served.headers
    assert "last-modified" not in served.headers


def test_a_retried_message_reuses_the_media_it_fetched(
    media_router: RouterHarness, graph: GraphApi, agents: Agents, tenants: dict[str, Tenant]
) -> None:
    agent = agents["alpha"][0]
    graph.media["3001"] = MediaFile(PDF, "application/pdf", tenants["alpha"].access_token)
    agent.failing = True
    message_id = send_media(
        media_router, "alpha", "document", {"id": "3001", "mime_type": "application/pdf"}, CUSTOMER
    )
    wait_for(lambda: agent.attempts >= 2, what="the agent to be asked twice")
    agent.failing = False
    media = received(agent, message_id).media
    assert media is not None
    assert media.content == PDF
    assert [call.step for call in graph.calls_for("3001")] == ["metadata", "download"]
    assert 'media_total{outcome="reused",tenant="tenants/alpha",type="document"}' in (
        media_router.metrics()
    )


def test_deleting_the_customer_or_retention_removes_their_media(
    media_router: RouterHarness,
    graph: GraphApi,
    agents: Agents,
    tenants: dict[str, Tenant],
    store_url: str,
) -> None:
    token = tenants["alpha"].access_token
    graph.media["4001"] = MediaFile(photo(), "image/png", token)
    graph.media["4002"] = MediaFile(PDF, "application/pdf", token)
    first = received(
        agents["alpha"][0], send_media(media_router, "alpha", "image", {"id": "4001"}, CUSTOMER)
    )
    received(
        agents["alpha"][0], send_media(media_router, "alpha", "document", {"id": "4002"}, CUSTOMER)
    )
    tenant = "tenants/alpha"
    wait_for(lambda: read_store(store_url, lambda store: store.media(tenant, "4002")))

    forgotten = read_store(
        store_url, lambda store: store.forget_customer(tenant, first.conversation_id)
    )
    assert forgotten.media == 2
    assert read_store(store_url, lambda store: store.media(tenant, "4001")) is None
    url = f"{media_router.url}/admin/tenants/tenants/alpha/media/4002"
    assert httpx.get(url, headers={"Authorization": f"Bearer {ADMIN}"}).status_code == 404

    # Sent again (a new message, a new media id): retention takes it with the events.
    graph.media["4003"] = MediaFile(PDF, "application/pdf", token)
    received(
        agents["alpha"][0], send_media(media_router, "alpha", "document", {"id": "4003"}, CUSTOMER)
    )
    wait_for(lambda: read_store(store_url, lambda store: store.media(tenant, "4003")))
    kept_for = datetime.now(UTC) - timedelta(days=1)
    read_store(store_url, lambda store: store.forget_before(tenant, kept_for))
    assert read_store(store_url, lambda store: store.media(tenant, "4003")) is not None
    read_store(store_url, lambda store: store.forget_before(tenant, datetime.now(UTC)))
    assert read_store(store_url, lambda store: store.media(tenant, "4003")) is None
