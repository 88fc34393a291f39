"""What the router will not fetch for the agent, and says so in `Media.unavailable`: too
large (as declared, or as the bytes arrive), a type it does not allow, a download that
keeps failing or arrives corrupted, and GPU-costly media past a Business's daily cap. The
agent still gets every message (it answers politely)."""

import base64
import hashlib
from collections.abc import Callable

import pytest
from harness import RouterHarness, Tenant, wait_for
from media_files import JPEG
from media_sent import media_of, send_media
from peers.graph_api import GraphApi, MediaFile
from peers.loopback import ServerThread
from peers.tenant_agent import Agent

from katha.contracts.messages import MessageType
from router.media_types import allowed, essence, sha256_matches

Agents = dict[str, tuple[Agent, ServerThread]]
MEDIA_TYPES = ["text", "image", "audio", "video", "document", "sticker"]
SENDER = "94770006666"


@pytest.fixture
def alpha_reads_media(tenants: dict[str, Tenant]) -> str:
    tenants["alpha"].extra["accepts"] = MEDIA_TYPES
    return tenants["alpha"].access_token


def test_media_declared_or_sent_larger_than_its_limit_is_not_fetched(
    start_router: Callable[..., RouterHarness],
    graph: GraphApi,
    agents: Agents,
    alpha_reads_media: str,
) -> None:
    router = start_router(media_image_max_bytes=64 * 1024)
    token = alpha_reads_media
    # Declared too large: no download is even started.
    graph.media["5001"] = MediaFile(JPEG, "image/jpeg", token, declared_size=6 * 1024 * 1024)
    # Declared small, then sent without end: reading stops past the limit (else the agent
    # would never be asked).
    graph.media["5002"] = MediaFile(
        JPEG * 16, "image/jpeg", token, declared_size=1000, endless=True
    )
    declared = media_of(
        agents["alpha"][0], send_media(router, "alpha", "image", {"id": "5001"}, SENDER)
    )
    sent = media_of(
        agents["alpha"][0], send_media(router, "alpha", "image", {"id": "5002"}, SENDER)
    )
    assert (declared.unavailable, declared.content) == ("too_large", None)
    assert [call.step for call in graph.calls_for("5001")] == ["metadata"]
    assert (sent.unavailable, sent.content) == ("too_large", None)
    wait_for(lambda: "5002" in graph.abandoned, what="the router to hang up")
    assert 'media_total{outcome="too_large",tenant="tenants/alpha",type="image"} 2.0' in (
        router.metrics()
    )


def test_a_type_not_allowed_is_not_fetched(
    start_router: Callable[..., RouterHarness],
    graph: GraphApi,
    agents: Agents,
    alpha_reads_media: str,
) -> None:
    router = start_router()
    agent = agents["alpha"][0]
    # The webhook already says what it is: no Graph call at all.
    program = {"id": "6001", "mime_type": "application/x-msdownload", "filename": "setup.exe"}
    refused = media_of(agent, send_media(router, "alpha", "document", program, SENDER))
    assert refused.unavailable == "type_not_allowed"
    assert graph.calls_for("6001") == []
    # The webhook says nothing; Meta's metadata says HTML: not downloaded.
    graph.media["6002"] = MediaFile(b"<html></html>", "text/html", alpha_reads_media)
    page = media_of(agent, send_media(router, "alpha", "document", {"id": "6002"}, SENDER))
    assert page.unavailable == "type_not_allowed"
    assert [call.step for call in graph.calls_for("6002")] == ["metadata"]


def test_a_failing_download_is_retried_then_given_up(
    start_router: Callable[..., RouterHarness],
    graph: GraphApi,
    agents: Agents,
    alpha_reads_media: str,
) -> None:
    router = start_router(graph_max_attempts=3, media_fetch_attempts=1)
    agent = agents["alpha"][0]
    graph.media["7001"] = MediaFile(JPEG, "image/jpeg", alpha_reads_media)
    graph.download_failures.extend([503])
    recovered = media_of(agent, send_media(router, "alpha", "image", {"id": "7001"}, SENDER))
    assert recovered.content == JPEG
    assert [call.step for call in graph.calls_for("7001")] == ["metadata", "download"] * 2

    graph.media["7002"] = MediaFile(JPEG, "image/jpeg", alpha_reads_media)
    graph.download_failures.extend([500, 500, 500])
    failed = media_of(agent, send_media(router, "alpha", "image", {"id": "7002"}, SENDER))
    assert (failed.unavailable, failed.content) == ("download_failed", None)
    assert len(graph.calls_for("7002")) == 6  # three tries, each from fresh metadata


def test_a_wrong_token_or_a_corrupted_download_is_download_failed(
    start_router: Callable[..., RouterHarness],
    graph: GraphApi,
    agents: Agents,
    alpha_reads_media: str,
) -> None:
    router = start_router()
    agent = agents["alpha"][0]
    graph.media["8001"] = MediaFile(JPEG, "image/jpeg", "EAAGsomeoneElsesToken")
    graph.media["8002"] = MediaFile(JPEG, "image/jpeg", alpha_reads_media, sha256="0" * 64)
    refused = media_of(agent, send_media(router, "alpha", "image", {"id": "8001"}, SENDER))
    corrupted = media_of(agent, send_media(router, "alpha", "image", {"id": "8002"}, SENDER))
    assert refused.unavailable == "download_failed"
    assert [call.step for call in graph.calls_for("8001")] == ["metadata"]  # 401: not retried
    assert corrupted.unavailable == "download_failed"


def test_past_the_daily_cap_photos_and_voice_notes_are_not_downloaded(
    start_router: Callable[..., RouterHarness],
    inbox_url: str,
    graph: GraphApi,
    agents: Agents,
    tenants: dict[str, Tenant],
    alpha_reads_media: str,
) -> None:
    # The router's default for photos; the Business's own limit for voice notes.
    tenants["alpha"].extra["media_daily_limits"] = {"audio": 1}
    router = start_router(inbox_url=inbox_url, media_daily_cap=2)
    agent = agents["alpha"][0]
    token = alpha_reads_media
    # Refused on Meta's metadata, unreadable with the token, or corrupted on arrival: none
    # of them takes one of the day's places.
    graph.media["9101"] = MediaFile(b"GIF89a", "image/gif", token)
    graph.media["9102"] = MediaFile(JPEG, "image/jpeg", token, declared_size=6 * 1024 * 1024)
    graph.media["9103"] = MediaFile(JPEG, "image/jpeg", "EAAGsomeoneElsesToken")
    graph.media["9104"] = MediaFile(JPEG, "image/jpeg", token, sha256="0" * 64)
    refused = [
        media_of(agent, send_media(router, "alpha", "image", {"id": media_id}, SENDER)).unavailable
        for media_id in ("9101", "9102", "9103", "9104")
    ]
    assert refused == ["type_not_allowed", "too_large", "download_failed", "download_failed"]
    for media_id in ("9001", "9002", "9003"):
        graph.media[media_id] = MediaFile(JPEG, "image/jpeg", token)
    for media_id in ("9011", "9012"):
        graph.media[media_id] = MediaFile(b"OggS" + bytes(100), "audio/ogg", token)
    graph.media["9021"] = MediaFile(b"%PDF-1.4\n%%EOF\n", "application/pdf", token)
    photos = [
        media_of(agent, send_media(router, "alpha", "image", {"id": media_id}, SENDER)).unavailable
        for media_id in ("9001", "9002", "9003")
    ]
    assert photos == [None, None, "daily_limit"]
    assert [call.step for call in graph.calls_for("9003")] == ["metadata"]
    voices = [
        media_of(
            agent, send_media(router, "alpha", "audio", {"id": media_id, "voice": True}, SENDER)
        ).unavailable
        for media_id in ("9011", "9012")
    ]
    assert voices == [None, "daily_limit"]  # counted apart from the photos
    assert [call.step for call in graph.calls_for("9012")] == ["metadata"]
    # A document costs no GPU: it is not capped.
    document = {"id": "9021", "mime_type": "application/pdf"}
    assert (
        media_of(agent, send_media(router, "alpha", "document", document, SENDER)).unavailable
        is None
    )
    assert 'media_total{outcome="daily_limit",tenant="tenants/alpha",type="image"} 1.0' in (
        router.metrics()
    )


def test_whatsapp_mime_types_are_read_without_their_parameters() -> None:
    assert essence("audio/ogg; codecs=opus") == "audio/ogg"
    assert allowed(MessageType.AUDIO, "Audio/OGG; codecs=opus")
    assert allowed(MessageType.DOCUMENT, "application/pdf")
    assert not allowed(MessageType.IMAGE, "image/svg+xml")
    assert not allowed(MessageType.DOCUMENT, None)


def test_the_sha256_is_compared_in_hex_or_base64() -> None:
    digest = hashlib.sha256(JPEG).digest()
    assert sha256_matches(digest.hex(), JPEG)
    assert sha256_matches(base64.b64encode(digest).decode(), JPEG)
    assert sha256_matches(base64.urlsafe_b64encode(digest).decode().rstrip("="), JPEG)
    assert sha256_matches(None, JPEG)
    assert not sha256_matches(hashlib.sha256(b"other").hexdigest(), JPEG)
    assert not sha256_matches("not a hash", JPEG)
