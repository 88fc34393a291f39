"""DuckDuckGo's HTML endpoint on loopback, reached the way ddgs reaches the real one.

ddgs's `duckduckgo` backend POSTs a form (q, l = region, b) to
https://html.duckduckgo.com/html/ through primp, and accepts an egress proxy and a CA
bundle. This server is that proxy: it accepts only `CONNECT html.duckduckgo.com:443`,
ends TLS with a certificate for that name signed by a throwaway CA, and answers in
DuckDuckGo's result markup. The real ddgs code runs end to end (TLS, form, parsing) and
nothing leaves 127.0.0.1.
"""

import html
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from .loopback import serve_http

HOST = "html.duckduckgo.com"


@dataclass
class DuckDuckGoServer:
    """`results` (title, url, snippet) answer every query; `status` 202 is DDG's rate limit."""

    proxy: str = ""
    ca_file: str = ""
    results: list[tuple[str, str, str]] = field(default_factory=list)
    forms: list[dict[str, str]] = field(default_factory=list)
    tunnels: list[str] = field(default_factory=list)
    status: int = 200
    delay: float = 0.0


def result_page(results: list[tuple[str, str, str]]) -> str:
    """html.duckduckgo.com's markup: one `result__body` per result, an ad first."""
    ad = result_block(
        "Bakery supplies - Sponsored", "https://duckduckgo.com/y.js?ad_domain=ads.example", "Ad"
    )
    blocks = "".join(result_block(*result) for result in results)
    return (
        "<!DOCTYPE html><html><head><title>DuckDuckGo</title></head><body>"
        f'<div class="serp__results"><div id="links" class="results">{ad}{blocks}</div></div>'
        "</body></html>"
    )


def result_block(title: str, url: str, snippet: str) -> str:
    href = html.escape(url, quote=True)
    return (
        '<div class="result results_links results_links_deep web-result ">'
        '<div class="links_main links_deep result__body">'
        f'<h2 class="result__title"><a rel="nofollow" class="result__a" href="{href}">'
        f"{html.escape(title)}</a></h2>"
        f'<div class="result__extras"><div class="result__extras__url">'
        f'<a class="result__url" href="{href}">{href}</a></div></div>'
        f'<a class="result__snippet" href="{href}">{html.escape(snippet)}</a>'
        '<div class="clear"></div></div></div>'
    )


def write_certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A throwaway CA and a certificate for html.duckduckgo.com it signed: (ca, cert, key)."""
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Katha test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(HOST)]), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    paths = folder / "ca.pem", folder / "cert.pem", folder / "key.pem"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


@contextmanager
def duckduckgo_server(folder: Path) -> Iterator[DuckDuckGoServer]:
    ca, certificate, key = write_certificates(folder)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(certificate, key)
    tls.set_alpn_protocols(["http/1.1"])
    state = DuckDuckGoServer(ca_file=str(ca))

    class DuckDuckGo(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if self.path != "/html/" or self.headers.get("Host") != HOST:
                self._send(404, "<html>not found</html>")
                return
            state.forms.append(dict(parse_qsl(body.decode(), keep_blank_values=True)))
            threading.Event().wait(state.delay)
            if state.status != 200:  # DuckDuckGo's "anomaly" page for suspected bots
                self._send(state.status, "<html><body>anomaly-modal</body></html>")
                return
            self._send(200, result_page(state.results))

        def _send(self, status: int, page: str) -> None:
            data = page.encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=UTF-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
                pass  # the client timed out first

        def log_message(self, *args: Any) -> None:
            pass

    class Proxy(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_CONNECT(self) -> None:
            state.tunnels.append(self.path)
            self.close_connection = True
            if self.path != f"{HOST}:443":
                self.send_error(403, "this proxy only reaches DuckDuckGo")
                return
            self.send_response(200, "Connection established")
            self.end_headers()
            try:
                connection = tls.wrap_socket(self.connection, server_side=True)
            except (ssl.SSLError, OSError):
                return  # the client refused our certificate
            DuckDuckGo(connection, self.client_address, self.server)

        def log_message(self, *args: Any) -> None:
            pass

    with serve_http(Proxy) as base:
        state.proxy = base
        yield state
