"""Sign-in with OpenID Connect against a real, certified provider (oidc-provider on Node,
tests/support/peers/oidc.py), its login and consent pages filled in over HTTP as a browser
would: the console's flow (PKCE, state, nonce, client secret, the ID token verified with
the provider's JWKS) works with a provider it was not written alongside."""

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from peers.oidc import OidcProvider
from pydantic import SecretStr

from console.app import create_app
from console.auth.sessions import SESSION_COOKIE

from .conftest import ALPHA, BETA, RouterPeer, audit_rows, console_settings

pytestmark = pytest.mark.slow

CLIENT_ID, CLIENT_SECRET = "katha-console", "a-client-secret-for-the-certified-provider"
CALLBACK = "http://testserver/signin/oidc/callback"
ACCOUNTS = {"nimal": {"name": "Nimal Perera", "katha_businesses": [f"{ALPHA}:owner", BETA]}}


@pytest.fixture(params=["client_secret_basic", "client_secret_post"])
def provider(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[OidcProvider]:
    with OidcProvider(
        tmp_path, CLIENT_ID, CLIENT_SECRET, CALLBACK, ACCOUNTS, auth_method=request.param
    ) as running:
        yield running


def follow(browser: httpx.Client, response: httpx.Response) -> httpx.Response:
    """Follow the provider's redirects, up to a page or the way back to the console."""
    while response.is_redirect and not response.headers["location"].startswith(CALLBACK):
        response = browser.get(response.url.join(response.headers["location"]))
    return response


def submit(browser: httpx.Client, page: httpx.Response, fields: dict[str, str]) -> httpx.Response:
    """Post the page's form, as a person pressing its button."""
    actions = re.findall(r'<form[^>]*action="([^"]+)"', page.text)
    assert actions, page.text
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text))
    return follow(browser, browser.post(page.url.join(actions[0]), data=hidden | fields))


def test_an_owner_signs_in_through_a_certified_provider(
    provider: OidcProvider, store_url: str, router: RouterPeer
) -> None:
    settings = console_settings(
        store_url, router.url, oidc_issuer=provider.issuer, oidc_client_id=CLIENT_ID,
        oidc_client_secret=SecretStr(CLIENT_SECRET),
    )  # fmt: skip
    with (
        TestClient(create_app(settings), follow_redirects=False) as console,
        httpx.Client() as browser,
    ):
        started = console.get("/signin/oidc", params={"next": "/b/shops/alpha"})
        assert started.status_code == 303
        login = follow(browser, browser.get(started.headers["location"]))
        consent = submit(browser, login, {"login": "nimal", "password": "any"})
        answer = submit(browser, consent, {})  # its answer: a redirect back to the console
        signed = console.get(answer.headers["location"])
        assert signed.status_code == 303, signed.text
        assert signed.headers["location"] == "/b/shops/alpha"
        assert console.cookies.get(SESSION_COOKIE)
        assert console.get(f"/api/v1/tenants/{ALPHA}/tokens").status_code == 200  # owner
        assert console.get(f"/api/v1/tenants/{BETA}/tokens").status_code == 404  # staff
    rows = audit_rows(store_url)
    assert [(row["action"], row["tenant"]) for row in rows] == [
        ("sign_in", ALPHA),
        ("sign_in", BETA),
    ]
    assert rows[0]["subject"] == f"oidc:{provider.issuer}#nimal"
