"""What every page tells the browser to defend it (no caching, a CSP that runs only the
console's own scripts, no framing, no Referer elsewhere, no sniffing), and the language
switch that only ever sends the browser back to a page of this console."""

import re

import pytest
from fastapi.testclient import TestClient

from console.security import CONTENT_SECURITY_POLICY, same_site_path
from console.web import HERE

from .conftest import RouterPeer, sign_in_with_code

PAGE_HEADERS = {
    "cache-control": "no-store",
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "x-content-type-options": "nosniff",
}


def test_every_page_carries_the_security_headers(client: TestClient, router: RouterPeer) -> None:
    assert "script-src" not in CONTENT_SECURITY_POLICY  # default-src 'self' covers it
    pages = [client.get("/signin"), client.post("/signin/code", data={"number": "nope"})]
    sign_in_with_code(client, router)
    pages += [client.get("/", follow_redirects=True), client.get("/b/shops/nobody")]
    for page in pages:
        assert page.headers["content-type"].startswith("text/html")
        assert {name: page.headers.get(name) for name in PAGE_HEADERS} == PAGE_HEADERS
    script = client.get("/static/thread.js")
    assert script.headers["x-content-type-options"] == "nosniff"
    assert "no-store" not in script.headers.get("cache-control", "")  # scripts may be cached


def test_no_page_has_inline_script_style_or_handler() -> None:
    for template in (HERE / "templates").glob("*.html"):
        source = template.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)", source), template.name
        assert not re.search(r"<style|\sstyle=|\son[a-z]+=|javascript:", source), template.name


@pytest.mark.parametrize(
    ("referer", "back"),
    [
        ("http://testserver/b/shops/alpha?unanswered=true", "/b/shops/alpha?unanswered=true"),
        ("/b/shops/alpha", "/b/shops/alpha"),
        ("http://testserver.evil.example/phish", "/"),  # merely begins with public_url
        ("http://testserver:8443/b", "/"),  # another port
        ("https://testserver/b", "/"),  # another scheme
        ("http://user@testserver/b", "/"),
        ("//evil.example/x", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
        (None, "/"),
    ],
)
def test_the_language_switch_goes_back_only_to_this_console(
    client: TestClient, referer: str | None, back: str
) -> None:
    headers = {"Referer": referer} if referer is not None else {}
    answer = client.get("/language/si", headers=headers)
    assert answer.status_code == 303
    assert answer.headers["location"] == back
    assert answer.cookies.get("lang") == "si"


def test_the_public_urls_default_port_is_its_own() -> None:
    public = "https://console.example.com"
    assert same_site_path("https://console.example.com:443/b/x", public) == "/b/x"
    assert same_site_path("https://console.example.com.evil.example/", public) == "/"
    assert same_site_path("https://CONSOLE.example.com/b", public) == "/b"
    assert same_site_path("http://[::1", public) == "/"  # not even a URL
