"""Issue #20 in the owner console: a customer's voice note, photo or document, sent through
the real router (which fetches it from Meta's Graph API, played on loopback, and keeps it
in the conversation store), is played, shown or offered for download in the thread, from
the console's own media route; that route is the thread page's access check, the router's
admin API behind it; a file the store no longer keeps says so in the owner's language.

HTTP-level tests against the running console, and one test in headless Chromium on a
360-pixel phone: the voice note plays (Chromium decodes its Opus) and the photo shows,
with JavaScript on and off."""

import asyncio
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any, TypeVar

import pytest
from audio import voice_note
from browser import Person, browse_fixture, browser_fixture  # noqa: F401 - fixtures
from console_under_test import ADMIN_TOKEN, ALPHA, BETA, CUSTOMER, NUMBERS, Console, Router
from console_under_test import message as stored_message
from fastapi import Response
from harness import RouterHarness, wait_for, write_routes
from media_files import PDF, photo
from peers.graph_api import MediaFile
from peers.loopback import ServerThread
from peers.whatsapp_webhooks import message, notification
from playwright.sync_api import Browser, Page, expect
from pydantic import SecretStr

from console.app import create_app
from console.auth.sessions import SESSION_COOKIE, start_session
from console.conversations.views import MediaView, event_views
from console.router_client import RouterAdmin
from console.services import ConsoleServices
from console.settings import ConsoleSettings
from console.web import translations
from katha.store import ConversationStore, MediaSummary, StoredEvent, StoredMedia
from router.envelope import conversation_id

T = TypeVar("T")
MEDIA_TYPES = ["text", "interactive", "button", "image", "audio", "video", "document", "sticker"]
OGG = "audio/ogg; codecs=opus"


@pytest.fixture(scope="module")
def spoken() -> bytes:
    return voice_note("en", "Is the red saree still there?")


@pytest.fixture
def router_admin(router_admin: Router) -> Router:
    """The conversation tests' router, its Businesses now reading customers' media (the
    operator writes `accepts` so when a Business's agent reads voice notes and photos)."""
    harness = router_admin.harness
    for tenant in harness.tenants.values():
        tenant.extra["accepts"] = MEDIA_TYPES
    write_routes(harness.routes_file, list(harness.tenants.values()))
    wait_for(lambda: all(reads_media(harness, number) for number in NUMBERS.values()))
    return router_admin


def reads_media(harness: RouterHarness, number: str) -> bool:
    route = harness.services.routes.route_for(number)
    return route is not None and "audio" in route.accepts


def send(harness: RouterHarness, tenant: str, kind: str, content: dict[str, Any]) -> str:
    """CUSTOMER sends `kind` media to `tenant`'s number (a signed webhook); the id the router
    gives the conversation."""
    who = harness.tenants[tenant.split("/")[1]]
    sent = message(kind, content, sender=CUSTOMER)
    response = harness.post(notification(who.phone_number_id, [sent]), who.app_secret)
    assert response.status_code == 200, response.text
    return conversation_id(harness.services.conversation_key, NUMBERS[tenant], CUSTOMER)


async def kept(store: ConversationStore, tenant: str, media_id: str) -> StoredMedia:
    """The file once the router has kept it (it writes the store beside answering)."""
    for _ in range(500):
        if (found := await store.media(tenant, media_id)) is not None:
            return found
        await asyncio.sleep(0.02)
    raise AssertionError(f"the router never kept {tenant}'s media {media_id}")


async def sent_and_kept(console: Console, files: dict[str, tuple[str, MediaFile, str]]) -> str:
    """Each media id's file (kind, as Meta holds it, a filename or "") sent to alpha by
    CUSTOMER, in order, and kept by the router; the conversation's id."""
    conversation = ""
    for media_id, (kind, file, filename) in files.items():
        console.graph.media[media_id] = file
        content = {"id": media_id, "mime_type": file.mime_type}
        if filename:
            content["filename"] = filename
        conversation = await asyncio.to_thread(send, console.router, ALPHA, kind, content)
        await kept(console.store, ALPHA, media_id)
    return conversation


async def test_the_thread_plays_shows_and_offers_what_the_customer_sent(
    console: Console, spoken: bytes
) -> None:
    token = console.router.tenants["alpha"].access_token
    files = {
        "5101": ("audio", MediaFile(spoken, OGG, token), ""),
        "5102": ("image", MediaFile(photo(), "image/png", token), ""),
        "5103": ("document", MediaFile(PDF, "application/pdf", token), "price list.pdf"),
    }
    conversation = await sent_and_kept(console, files)
    async with await console.sign_in({ALPHA: "staff"}) as client:
        page = await client.get(f"/b/shops/alpha/c/{conversation}")
        served = {
            media_id: await client.get(f"/b/shops/alpha/media/{media_id}") for media_id in files
        }
    assert page.status_code == 200
    assert '<audio controls preload="metadata" src="/b/shops/alpha/media/5101">' in page.text
    assert '<img src="/b/shops/alpha/media/5102" width="240"' in page.text
    assert (
        'href="/b/shops/alpha/media/5103" download="price list.pdf">Document: price list.pdf'
        in (page.text)
    )
    for media_id, (_, file, _) in files.items():
        answer = served[media_id]
        assert answer.status_code == 200, media_id
        assert answer.content == file.content
        # The type Meta gave, without its parameters (the router keeps the essence).
        assert answer.headers["content-type"] == file.mime_type.split(";")[0]
        assert answer.headers["cache-control"] == "no-store, private"
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["content-security-policy"] == "default-src 'none'; sandbox"
    assert served["5101"].headers["content-disposition"] == "inline"
    assert served["5102"].headers["content-disposition"] == "inline"
    assert served["5103"].headers["content-disposition"] == (
        "attachment; filename*=UTF-8''price%20list.pdf"
    )


async def test_the_media_route_is_only_for_those_who_see_the_business(console: Console) -> None:
    token = console.router.tenants["alpha"].access_token
    await sent_and_kept(console, {"5201": ("image", MediaFile(photo(), "image/png", token), "")})
    async with await console.sign_in({BETA: "owner"}) as other:
        theirs = await other.get("/b/shops/alpha/media/5201")
        guessed = await other.get("/b/shops/beta/media/5201")  # alpha's id under beta
    async with await console.sign_in({ALPHA: "owner"}) as owner:
        missing = await owner.get("/b/shops/alpha/media/5999")
        own = await owner.get("/b/shops/alpha/media/5201")
    async with console.anonymous() as anonymous:
        nobody = await anonymous.get("/b/shops/alpha/media/5201")
    async with await console.api_token(BETA) as beta_token:
        beta_api = await beta_token.get("/b/shops/alpha/media/5201")
    assert (theirs.status_code, guessed.status_code, missing.status_code) == (404, 404, 404)
    assert beta_api.status_code == 404
    for refused in (theirs, guessed, missing, beta_api):
        assert refused.content != photo()
    assert (nobody.status_code, nobody.headers["location"]) == (
        303,
        "/signin?next=%2Fb%2Fshops%2Falpha%2Fmedia%2F5201",
    )
    assert (own.status_code, own.content) == (200, photo())


async def test_a_file_no_longer_kept_says_so_in_the_owners_language(console: Console) -> None:
    """The customers' messages stay in the thread when their files are gone (or were
    never fetched): each says which kind of file it was, and that it is no longer kept."""
    await console.record(
        stored_message(1, event_id="in:wamid.gone.1", message_type="audio", text=None),
        stored_message(2, event_id="in:wamid.gone.2", message_type="document", text="the bill"),
        stored_message(3, event_id="in:wamid.text.3", message_type="text", text="thanks"),
    )
    for language in ("en", "si", "ta"):
        async with await console.sign_in({ALPHA: "owner"}, language=language) as client:
            page = (await client.get("/b/shops/alpha/c/c-1")).text
        words = translations(language).gettext
        assert page.count(words("no longer kept")) == 2, language
        assert f"{words('Voice note')}:" in page, language
        assert f"{words('Document')}:" in page, language
        assert "the bill" in page
        assert "<audio" not in page
        assert "/media/" not in page


async def test_with_the_router_down_the_media_route_says_try_again(console: Console) -> None:
    token = console.router.tenants["alpha"].access_token
    await sent_and_kept(console, {"5301": ("image", MediaFile(photo(), "image/png", token), "")})
    console.router_server.stop()
    async with await console.sign_in({ALPHA: "owner"}) as client:
        answer = await client.get("/b/shops/alpha/media/5301")
    assert answer.status_code == 503
    assert answer.headers["retry-after"] == "30"
    assert answer.headers["cache-control"] == "no-store, private"


# One browser test: the console as a plain (sync) fixture, since Playwright's sync API runs
# its own event loop in the test's thread; the store is read from another thread.


def in_thread(call: Callable[[], Coroutine[Any, Any, T]]) -> T:
    with ThreadPoolExecutor(1) as worker:
        return worker.submit(asyncio.run, call()).result()


@pytest.fixture
def console_url(store_url: str, router_admin: Router) -> Iterator[tuple[str, ConsoleSettings]]:
    settings = ConsoleSettings(
        store_url=SecretStr(store_url),
        router_url=router_admin.harness.url,
        router_admin_token=SecretStr(ADMIN_TOKEN),
        session_secret=SecretStr("console-media-tests-session-secret-2b7c"),
        secure_cookies=False,
    )
    server = ServerThread(create_app(settings)).start()
    try:
        yield server.url, settings
    finally:
        server.stop()


def owner_session(settings: ConsoleSettings, store_url: str) -> str:
    async def start() -> str:
        store = ConversationStore.from_url(store_url)
        router = RouterAdmin.connect(settings.router_url, ADMIN_TOKEN)
        services = ConsoleServices(settings=settings, store=store, router=router)
        try:
            return await start_session(
                services, Response(), subject="test:owner", display="Owner",
                tenants={ALPHA: "owner"},
            )  # fmt: skip
        finally:
            await router.aclose()
            await store.close()

    return in_thread(start)


def kept_in(store_url: str, media_id: str) -> bool:
    async def read() -> bool:
        store = ConversationStore.from_url(store_url)
        try:
            return await store.media(ALPHA, media_id) is not None
        finally:
            await store.close()

    return in_thread(read)


def phone(person: Person, url: str, token: str) -> Page:
    person.context.add_cookies([{"name": SESSION_COOKIE, "value": token, "url": url}])
    person.page.set_viewport_size({"width": 360, "height": 740})
    return person.page


@pytest.mark.slow
def test_a_voice_note_plays_and_a_photo_shows_on_a_phone(
    console_url: tuple[str, ConsoleSettings],
    router_admin: Router,
    store_url: str,
    browser: Browser,
    browse: Callable[[], Person],
    spoken: bytes,
) -> None:
    url, settings = console_url
    harness = router_admin.harness
    token = harness.tenants["alpha"].access_token
    router_admin.graph.media["6101"] = MediaFile(spoken, OGG, token)
    router_admin.graph.media["6102"] = MediaFile(photo(), "image/png", token)
    send(harness, ALPHA, "audio", {"id": "6101", "mime_type": OGG, "voice": True})
    conversation = send(harness, ALPHA, "image", {"id": "6102", "mime_type": "image/png"})
    wait_for(lambda: kept_in(store_url, "6101") and kept_in(store_url, "6102"), what="media")
    session = owner_session(settings, store_url)
    thread = f"{url}/b/shops/alpha/c/{conversation}"

    page = phone(browse(), url, session)
    page.goto(thread)
    voice = page.locator("audio")
    expect(voice).to_have_count(1)
    # Chromium fetched the voice note and decoded its Opus: it knows how long it is.
    page.wait_for_function("document.querySelector('audio').duration > 0")
    seconds = voice.evaluate("audio => audio.duration")
    assert 0.5 < seconds < 10
    image = page.locator("img")
    page.wait_for_function("document.querySelector('img').naturalWidth > 0")
    assert image.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [64, 48]
    for shown in (voice, image):
        box = shown.bounding_box()
        bubble = shown.locator("xpath=ancestor::*[contains(@class, 'bubble')][1]").bounding_box()
        assert box is not None
        assert bubble is not None
        assert 0 <= box["x"] <= box["x"] + box["width"] <= 360
        # inside its own bubble, not running past it
        assert bubble["x"] <= box["x"]
        assert box["x"] + box["width"] <= bubble["x"] + bubble["width"] + 0.5
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    # JavaScript off: the page's own HTML plays and shows them.
    off = browser.new_context(java_script_enabled=False, viewport={"width": 360, "height": 740})
    try:
        off.add_cookies([{"name": SESSION_COOKIE, "value": session, "url": url}])
        still = off.new_page()
        with still.expect_response(lambda r: r.url.endswith("/media/6102")) as shown:
            still.goto(thread)
        assert shown.value.status == 200
        expect(still.locator("audio[controls]")).to_have_attribute(
            "src", "/b/shops/alpha/media/6101"
        )
    finally:
        off.close()


def test_each_file_is_shown_in_its_own_messages_bubble_only() -> None:
    at = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    common: dict[str, Any] = {"tenant": ALPHA, "conversation_id": "c-1", "at": at, "id": 1}
    voice = StoredEvent(event_id="in:wamid.1", author="customer", message_type="audio", **common)
    gone = StoredEvent(event_id="in:wamid.2", author="customer", message_type="image", **common)
    words = StoredEvent(event_id="in:wamid.3", author="customer", message_type="text", **common)
    reply = StoredEvent(event_id="agent:wamid.1", author="agent", **common)
    files = [
        MediaSummary(media_id="77 01", message_id="wamid.1", at=at, kind="audio",
                     mime_type="audio/ogg", size=3, sha256="0" * 64),
        MediaSummary(media_id="7703", message_id="wamid.9", at=at, kind="document",
                     mime_type="application/pdf", filename="bill.pdf", size=3, sha256="0" * 64),
    ]  # fmt: skip
    views = event_views([voice, gone, words, reply], files, "/b/shops/alpha")
    assert [view.media for view in views] == [
        MediaView(kind="audio", href="/b/shops/alpha/media/77%2001"),
        MediaView(kind="image", href=None),  # no longer kept
        None,
        None,
    ]
