"""Knowledge URLs cannot reach the cloud's metadata service, loopback or private ranges:
not directly, not through a host name, not through a redirect, not through the crawler.

Everything here runs on loopback, so "the public internet" is 127.0.0.2, opened by a
test-only allowlist entry (`allowed_cidrs`), while "the metadata service" listens on
127.0.0.1, which stays forbidden: the real check decides every request.
"""

import json
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import ip_network
from pathlib import Path
from typing import Any

import httpx
import pytest
from certificates import self_signed

from ingestion.addresses import AddressPolicy
from ingestion.crawling import crawl_site
from ingestion.errors import FailureReason, SourceError
from ingestion.fetching import FetchLimits, fetch, http_client
from ingestion.index.reader import IndexReader
from ingestion.index.schema import tenant_path
from ingestion.refresh import Refresh, refresh_business
from ingestion.report import SourceStatus
from ingestion.settings import IngestionSettings

from .conftest import business

PUBLIC_HOST = "127.0.0.2"
# What ingestion would leak if it reached the metadata service.
PLANTED = "AKIAPLANTEDSECRET0042"
CREDENTIALS_PATH = "/latest/meta-data/iam/security-credentials/node-role"
LIMITS = FetchLimits(timeout_seconds=2)
# As in a cluster (nothing opened), except that 127.0.0.2 plays a public address.
CLUSTER = AddressPolicy.of(allowed=[f"{PUBLIC_HOST}/32"])


@dataclass
class Peer:
    """An HTTP server on one loopback address: path -> (status, headers, body)."""

    routes: dict[str, tuple[int, dict[str, str], bytes]] = field(default_factory=dict)
    hits: list[tuple[str, str]] = field(default_factory=list)  # (path, Host header)
    base: str = ""
    port: int = 0

    def html(self, path: str, body: str) -> None:
        self.routes[path] = (200, {"Content-Type": "text/html; charset=utf-8"}, body.encode())

    def redirect(self, path: str, location: str, status: int = 302) -> None:
        self.routes[path] = (status, {"Location": location}, b"")


@contextmanager
def serving(host: str, port: int = 0, tls: ssl.SSLContext | None = None) -> Iterator[Peer]:
    peer = Peer()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            peer.hits.append((self.path, self.headers.get("Host", "")))
            status, headers, body = peer.routes.get(self.path, (404, {}, b"no"))
            self.send_response(status)
            for name, value in {"Content-Type": "text/plain", **headers}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    peer.port = server.server_address[1]
    peer.base = f"{'https' if tls else 'http'}://{host}:{peer.port}"
    try:
        yield peer
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def metadata() -> Iterator[Peer]:
    """The cloud's metadata service, played on 127.0.0.1."""
    with serving("127.0.0.1") as peer:
        credentials = {"AccessKeyId": PLANTED, "SecretAccessKey": PLANTED}
        peer.routes[CREDENTIALS_PATH] = (
            200,
            {"Content-Type": "text/plain"},
            json.dumps(credentials).encode(),
        )
        yield peer


@pytest.fixture
def public() -> Iterator[Peer]:
    """A business's web site on a "public" address."""
    with serving(PUBLIC_HOST) as peer:
        yield peer


def _refused(error: pytest.ExceptionInfo[SourceError]) -> str:
    assert error.value.reason is FailureReason.BLOCKED_ADDRESS, error.value
    assert PLANTED not in str(error.value)
    return str(error.value)


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00:ec2::254]/latest/meta-data/",
        "http://100.100.100.200/latest/meta-data/",
        "http://[::ffff:169.254.169.254]/latest/meta-data/",
        "http://[::ffff:a9fe:a9fe]/latest/meta-data/",
        "http://[64:ff9b::a9fe:a9fe]/latest/meta-data/",
    ],
)
def test_cloud_metadata_is_refused_even_with_loopback_and_private_ranges_open(url: str) -> None:
    everything_open = AddressPolicy.of(allow_loopback=True, allow_private=True)
    with http_client(LIMITS, everything_open) as client, pytest.raises(SourceError) as error:
        fetch(client, url, LIMITS)
    assert "cloud metadata address" in _refused(error)


def test_a_host_name_is_judged_by_every_address_it_resolves_to(public: Peer) -> None:
    public.html("/", "<p>Open daily.</p>")
    answers = {
        "intranet.example": ["10.0.0.7"],
        "metadata.google.internal": ["169.254.169.254"],
        "half-private.example": [PUBLIC_HOST, "192.168.1.10"],
        "shop.example": [PUBLIC_HOST],
    }

    def resolve(host: str, port: int) -> list[str]:
        return answers[host]

    with http_client(LIMITS, CLUSTER, resolve) as client:
        for host, kind in (
            ("intranet.example", "private"),
            ("metadata.google.internal", "cloud metadata"),
            ("half-private.example", "private"),
        ):
            with pytest.raises(SourceError) as error:
                fetch(client, f"http://{host}:{public.port}/", LIMITS)
            assert f"{host} resolves to " in _refused(error)
            assert f"a {kind} address" in str(error.value)
        page = fetch(client, f"http://shop.example:{public.port}/", LIMITS)
    assert page.content == b"<p>Open daily.</p>"
    # Only the fully public host was ever connected to, under its own name.
    assert public.hits == [("/", f"shop.example:{public.port}")]


def test_the_connection_goes_to_the_address_that_was_checked() -> None:
    """DNS rebinding: a second lookup, answering a forbidden address, is never made."""
    # The metadata service listens on the same port, so a second lookup would reach it.
    with serving(PUBLIC_HOST) as public, serving("127.0.0.1", public.port) as metadata:
        public.html("/", "<p>public</p>")
        metadata.html("/", f"<p>{PLANTED}</p>")
        lookups: list[str] = []

        def rebinding(host: str, port: int) -> list[str]:
            lookups.append(host)
            return [PUBLIC_HOST] if len(lookups) == 1 else ["127.0.0.1"]

        with http_client(LIMITS, CLUSTER, rebinding) as client:
            page = fetch(client, f"http://rebind.example:{public.port}/", LIMITS)
    assert page.content == b"<p>public</p>"
    assert lookups == ["rebind.example"]
    assert metadata.hits == []


def _certificate(host: str, folder: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A self-signed certificate for `host`: the server's context and a client's trusting it."""
    cert_file, server = self_signed(folder, "site", hosts=(host,))
    return server, ssl.create_default_context(cafile=cert_file)


def test_tls_is_verified_against_the_host_name_while_connecting_to_the_vetted_address(
    tmp_path: Path,
) -> None:
    server_tls, client_tls = _certificate("shop.example", tmp_path)
    names: list[str | None] = []
    server_tls.sni_callback = lambda _socket, name, _context: names.append(name)
    with serving(PUBLIC_HOST, tls=server_tls) as public:
        public.html("/", "<p>Open daily.</p>")
        shop = f"https://shop.example:{public.port}/"
        with http_client(LIMITS, CLUSTER, lambda *_: [PUBLIC_HOST], client_tls) as client:
            assert fetch(client, shop, LIMITS).content == b"<p>Open daily.</p>"
            with pytest.raises(SourceError, match="CERTIFICATE_VERIFY_FAILED"):
                fetch(client, f"https://{PUBLIC_HOST}:{public.port}/", LIMITS)
    assert names[0] == "shop.example"
    assert public.hits == [("/", f"shop.example:{public.port}")]


def test_knowledge_is_fetched_only_through_a_client_that_vets_addresses(public: Peer) -> None:
    public.html("/", "<p>Open daily.</p>")
    with httpx.Client() as plain, pytest.raises(TypeError, match="http_client"):
        fetch(plain, f"{public.base}/", LIMITS)  # type: ignore[arg-type]
    assert public.hits == []


def test_a_public_url_redirecting_to_loopback_is_refused_on_the_hop(
    public: Peer, metadata: Peer
) -> None:
    public.redirect("/menu.pdf", f"{metadata.base}{CREDENTIALS_PATH}")
    public.redirect("/hours", "/hours/", 301)
    public.redirect("/hours/", f"{metadata.base}{CREDENTIALS_PATH}", 307)
    with http_client(LIMITS, CLUSTER) as client:
        for path in ("/menu.pdf", "/hours"):
            with pytest.raises(SourceError) as error:
                fetch(client, f"{public.base}{path}", LIMITS)
            message = _refused(error)
            assert message.startswith(f"{public.base}{path} redirects to 127.0.0.1:")
            assert "a loopback address" in message
    assert metadata.hits == []


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "[::ffff:127.0.0.1]", "[::ffff:7f00:1]", "2130706433", "localhost"]
)
def test_loopback_in_any_spelling_is_refused_in_a_cluster(host: str, metadata: Peer) -> None:
    with http_client(LIMITS, CLUSTER) as client, pytest.raises(SourceError) as error:
        fetch(client, f"http://{host}:{metadata.port}{CREDENTIALS_PATH}", LIMITS)
    assert "a loopback address" in _refused(error)
    assert "KATHA_INGEST_ALLOW_LOOPBACK" in str(error.value)  # what a laptop user can do
    assert metadata.hits == []


def test_loopback_is_reached_when_the_setting_allows_it(public: Peer, metadata: Peer) -> None:
    metadata.html("/", "<p>local site</p>")
    public.redirect("/local", f"{metadata.base}/")
    laptop = IngestionSettings(allow_loopback=True).address_policy()
    with http_client(LIMITS, laptop) as client:
        direct = fetch(client, f"{metadata.base}/", LIMITS)
        redirected = fetch(client, f"{public.base}/local", LIMITS)
        with pytest.raises(SourceError) as error:  # loopback open, metadata still not
            fetch(client, "http://169.254.169.254/latest/meta-data/", LIMITS)
    assert direct.content == redirected.content == b"<p>local site</p>"
    assert redirected.url == f"{metadata.base}/"
    _refused(error)


def test_the_crawler_follows_neither_links_nor_redirects_to_forbidden_hosts(
    public: Peer, metadata: Peer
) -> None:
    public.html(
        "/",
        f"""<main><h1>Ceylon Spice</h1><p>Family kitchen in Kandy.</p>
        <a href="{metadata.base}{CREDENTIALS_PATH}">credentials</a>
        <a href="/about">About</a> <a href="/go">Go</a></main>""",
    )
    public.html("/about", "<main><p>Since 1998.</p></main>")
    public.redirect("/go", f"{metadata.base}{CREDENTIALS_PATH}")
    with http_client(LIMITS, CLUSTER) as client:
        crawl = crawl_site(client, f"{public.base}/", LIMITS, max_pages=10, max_depth=2)
    assert [url for url, _ in crawl.pages] == [f"{public.base}/", f"{public.base}/about"]
    (skipped,) = crawl.skipped
    assert skipped.startswith(f"{public.base}/go redirects to 127.0.0.1:")
    assert metadata.hits == []


def test_a_robots_txt_redirecting_to_a_forbidden_host_fails_the_source(
    public: Peer, metadata: Peer
) -> None:
    public.redirect("/robots.txt", f"{metadata.base}{CREDENTIALS_PATH}")
    public.html("/", "<main><p>Family kitchen.</p></main>")
    with http_client(LIMITS, CLUSTER) as client, pytest.raises(SourceError) as error:
        crawl_site(client, f"{public.base}/", LIMITS, max_pages=5, max_depth=1)
    assert _refused(error).startswith(f"robots.txt at {public.base}/robots.txt: ")
    assert metadata.hits == []


def test_a_refused_source_fails_with_its_reason_and_nothing_of_it_is_indexed(
    refresh_with_api: Refresh, public: Peer, metadata: Peer
) -> None:
    public.html("/", "<main><h1>About</h1><p>Family kitchen in Kandy since 1998.</p></main>")
    public.redirect("/menu.pdf", f"{metadata.base}{CREDENTIALS_PATH}")
    settings = refresh_with_api.settings.model_copy(
        update={"allow_loopback": False, "allowed_cidrs": [ip_network(f"{PUBLIC_HOST}/32")]}
    )
    refresh = Refresh(
        refresh_with_api.index_root, refresh_with_api.places, settings, progress=False
    )
    report = refresh_business(
        business(
            {"type": "web", "name": "site", "url": f"{public.base}/"},
            {"type": "pdf", "name": "menu", "url": f"{public.base}/menu.pdf"},
            {"type": "text", "name": "creds", "url": f"http://169.254.169.254{CREDENTIALS_PATH}"},
            {"type": "text", "name": "local", "url": f"{metadata.base}{CREDENTIALS_PATH}"},
        ),
        refresh,
    )
    outcome = {source.source: (source.status, source.reason) for source in report.sources}
    refused = (SourceStatus.FAILED, FailureReason.BLOCKED_ADDRESS)
    assert outcome == {
        "site": (SourceStatus.INDEXED, ""),
        "menu": refused,
        "creds": refused,
        "local": refused,
    }
    assert PLANTED not in json.dumps(report.as_dict())
    reader = IndexReader(tenant_path(refresh.index_root, "tenants", "ceylon-spice"))
    assert reader.search_text("Kandy")[0].source == "site"
    assert reader.search_text(PLANTED) == []
    assert metadata.hits == []


def test_in_a_cluster_only_the_public_internet_is_open_by_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KATHA_INGEST_BLOCKED_CIDRS", '["34.118.224.0/20"]')
    policy = IngestionSettings().address_policy()
    assert (policy.allow_loopback, policy.allow_private, policy.allowed) == (False, False, ())
    assert policy.blocked == (ip_network("34.118.224.0/20"),)
