"""Sign-in with OpenID Connect: the code flow with PKCE against a provider on loopback, and
an ID token refused for each thing that can be wrong with it."""

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from structlog.testing import capture_logs

from console.app import create_app
from console.auth.oidc import businesses, display_name
from console.auth.sessions import SESSION_COOKIE

from .conftest import ALPHA, BETA, GAMMA, Clock, RouterPeer, audit_rows, console_settings
from .oidc_peer import LocalProvider

CLIENT_ID, CLIENT_SECRET = "katha-console", "client-secret-for-tests"
CLAIMS = {"name": "Nimal Perera", "katha_businesses": [f"{ALPHA}:owner", BETA, "not a tenant"]}


@pytest.fixture
def provider() -> Iterator[LocalProvider]:
    with LocalProvider(CLIENT_ID, CLIENT_SECRET, dict(CLAIMS)).serve() as running:
        yield running


@pytest.fixture
def client(
    store_url: str, router: RouterPeer, provider: LocalProvider, clock: Clock
) -> Iterator[TestClient]:
    settings = console_settings(
        store_url, router.url, oidc_issuer=provider.url, oidc_client_id=CLIENT_ID,
        oidc_client_secret=SecretStr(CLIENT_SECRET),
    )  # fmt: skip
    with TestClient(create_app(settings, clock=clock), follow_redirects=False) as opened:
        yield opened


def sign_in(client: TestClient, *, next_path: str = "/", state: str | None = None) -> Any:
    """The browser's round trip: console -> provider -> console's callback."""
    started = client.get("/signin/oidc", params={"next": next_path})
    assert started.status_code == 303
    with httpx.Client() as browser:
        back = browser.get(started.headers["location"])
    assert back.status_code == 303
    callback = httpx.URL(back.headers["location"])
    assert callback.path == "/signin/oidc/callback"
    if state is not None:
        callback = callback.copy_set_param("state", state)
    return client.get(str(callback))


def test_an_oidc_user_is_signed_in_to_the_businesses_of_the_claim(
    client: TestClient, provider: LocalProvider, store_url: str
) -> None:
    assert 'id="signin-oidc"' in client.get("/signin").text
    signed = sign_in(client, next_path="/b/shops/alpha")
    assert signed.status_code == 303
    assert signed.headers["location"] == "/b/shops/alpha"
    assert client.cookies.get(SESSION_COOKIE)
    assert client.get(f"/api/v1/tenants/{ALPHA}/tokens").status_code == 200  # owner
    assert client.get(f"/api/v1/tenants/{BETA}/tokens").status_code == 404  # staff
    rows = audit_rows(store_url)
    assert [(row["action"], row["tenant"], row["target"]) for row in rows] == [
        ("sign_in", ALPHA, "oidc"),
        ("sign_in", BETA, "oidc"),
    ]
    assert rows[0]["subject"] == f"oidc:{provider.url}#user-1"


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        ({"other_key": True}, "InvalidSignatureError"),  # no key of the provider made it
        ({"aud": "another-client"}, "InvalidAudienceError"),
        ({"exp": 1_000_000_000}, "ExpiredSignatureError"),
        ({"nonce": "another-sign-in"}, "nonce"),
        ({"iss": "https://evil.example"}, "InvalidIssuerError"),
        ({"algorithm": "HS256"}, "'HS256' is not accepted"),  # a shared secret: never
    ],
    ids=["bad-signature", "wrong-audience", "expired", "wrong-nonce", "wrong-issuer", "hs256"],
)
def test_an_id_token_that_is_wrong_in_any_way_is_refused(
    client: TestClient,
    provider: LocalProvider,
    store_url: str,
    tamper: dict[str, Any],
    reason: str,
) -> None:
    provider.tamper = tamper
    with capture_logs() as logs:
        refused = sign_in(client)
    [failure] = [line for line in logs if line["event"] == "console.oidc_sign_in_failed"]
    assert reason in failure["reason"]
    assert provider.token_requests == 1
    assert refused.status_code == 400
    assert "did not work" in refused.text
    assert SESSION_COOKIE not in client.cookies
    [row] = audit_rows(store_url)
    assert (row["action"], row["subject"]) == ("sign_in_failed", "oidc:unverified")


def test_a_callback_for_another_sign_in_is_refused(
    client: TestClient, provider: LocalProvider
) -> None:
    refused = sign_in(client, state="not-the-state-sent")
    assert refused.status_code == 400
    assert provider.token_requests == 0  # the code was never even traded


def test_a_callback_with_no_sign_in_under_way_leaves_no_trace(
    client: TestClient, store_url: str
) -> None:
    # Anyone may call the callback: without this browser's flow cookie it is not a
    # sign-in, and neither the log nor the audit table grows at a stranger's will.
    with capture_logs() as logs:
        for _ in range(3):
            answer = client.get("/signin/oidc/callback?code=x&state=y")
            assert answer.status_code == 400
        client.cookies.set("katha_oidc", "forged.cookie", path="/signin/oidc")
        assert client.get("/signin/oidc/callback?code=x&state=y").status_code == 400
    assert logs == []
    assert audit_rows(store_url) == []


@pytest.mark.parametrize("configured", ["", "/"])
def test_an_issuer_written_with_a_trailing_slash_signs_in(
    store_url: str, router: RouterPeer, clock: Clock, configured: str
) -> None:
    provider = LocalProvider(CLIENT_ID, CLIENT_SECRET, dict(CLAIMS), trailing_slash=True)
    with provider.serve():
        settings = console_settings(
            store_url, router.url, oidc_issuer=provider.url + configured,
            oidc_client_id=CLIENT_ID, oidc_client_secret=SecretStr(CLIENT_SECRET),
        )  # fmt: skip
        with TestClient(create_app(settings, clock=clock), follow_redirects=False) as client:
            assert sign_in(client).status_code == 303
    assert audit_rows(store_url)[0]["subject"] == f"oidc:{provider.url}/#user-1"


def test_a_user_with_no_business_is_told_so(client: TestClient, provider: LocalProvider) -> None:
    provider.claims["katha_businesses"] = []
    refused = sign_in(client)
    assert refused.status_code == 403
    assert "no Business" in refused.text
    assert SESSION_COOKIE not in client.cookies


def test_discovery_and_keys_are_cached_and_a_rotated_key_fetched_again(
    client: TestClient, provider: LocalProvider
) -> None:
    assert sign_in(client).status_code == 303
    assert provider.fetched == {"discovery": 1, "jwks": 1}
    client.cookies.clear()
    assert sign_in(client).status_code == 303
    assert provider.fetched == {"discovery": 1, "jwks": 1}  # both from the cache
    client.cookies.clear()
    provider.rotate()
    assert sign_in(client).status_code == 303
    assert provider.fetched == {"discovery": 1, "jwks": 2}  # the new key, fetched once


def test_without_oidc_settings_there_is_no_oidc_sign_in(store_url: str, router: RouterPeer) -> None:
    with TestClient(create_app(console_settings(store_url, router.url))) as client:
        assert 'id="signin-oidc"' not in client.get("/signin").text
        assert client.get("/signin/oidc").status_code == 404
        assert client.get("/signin/oidc/callback?code=x&state=y").status_code == 404


def test_the_claim_maps_users_to_businesses_and_roles() -> None:
    claim = {
        "katha_businesses": [
            ALPHA, f"{BETA}:owner", f"{GAMMA}:staff", f"{GAMMA}:owner", "x/y:admin",
            "Shops/Upper", "no-slash", 42, f"{ALPHA}:staff",
        ]
    }  # fmt: skip
    assert businesses(claim, "katha_businesses") == {ALPHA: "staff", BETA: "owner", GAMMA: "owner"}
    assert businesses({"katha_businesses": f"{ALPHA}:owner"}, "katha_businesses") == {
        ALPHA: "owner"
    }
    assert businesses({"groups": [ALPHA]}, "katha_businesses") == {}
    assert display_name({"preferred_username": "nimal"}) == "nimal"
    assert display_name({}) == "User"
