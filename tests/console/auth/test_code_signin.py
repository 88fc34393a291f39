"""Sign-in with a one-time code: the router sends it, the owner types it, a session starts;
wrong codes, expiry and rate limits stop guessing; the page never tells who owns what."""

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from ports import free_port
from pydantic import SecretStr
from sqlalchemy import select
from structlog.testing import capture_logs

from console.app import create_app
from console.auth import codes
from console.auth.codes import CODES_PER_CLIENT, CODES_PER_NUMBER, MAX_ATTEMPTS
from console.auth.sessions import SESSION_COOKIE
from katha.store.console_tables import console_login_codes, console_sessions
from katha.store.engines import sync_engine

from .conftest import (
    ALPHA,
    BETA,
    OWNER,
    Clock,
    RouterPeer,
    audit_rows,
    console_settings,
    office,
    sign_in_with_code,
    wrong_code,
)


def test_the_code_reaches_the_router_and_signs_the_owner_in(
    client: TestClient, router: RouterPeer, store_url: str
) -> None:
    router.owner_writes("alpha")  # alpha sends the code in words, beta its template
    page = client.get("/signin")
    assert page.status_code == 200
    assert 'name="number"' in page.text
    asked = client.post(
        "/signin/code", data={"number": "+94 77 123 4567", "next": "/b/shops/alpha"}
    )
    assert asked.status_code == 200
    assert "an 8-digit code is on its way" in asked.text
    [sent] = router.sent  # one code, from each Business the number owns
    assert sent["owner_number"] == OWNER
    assert sorted(sent["tenants"]) == [ALPHA, BETA]
    assert len(sent["code"]) == 8
    assert sent["code"].isdigit()
    assert sent["minutes"] == 10.0
    assert client.get("/signin/verify").status_code == 200
    verified = client.post("/signin/verify", data={"code": sent["code"], "next": "/b/shops/alpha"})
    assert verified.status_code == 303
    assert verified.headers["location"] == "/b/shops/alpha"
    assert client.cookies.get(SESSION_COOKIE)
    # The tokens page needs an owner: the session is one, of both Businesses.
    for tenant in (ALPHA, BETA):
        assert client.get(f"/api/v1/tenants/{tenant}/tokens").status_code == 200
    # Nothing kept in the store opens anything by itself: no code, no number, no cookie.
    engine = sync_engine(store_url)
    with engine.connect() as connection:
        sessions = connection.execute(select(console_sessions)).mappings().all()
        codes = connection.execute(select(console_login_codes)).mappings().all()
    engine.dispose()
    [used] = codes  # kept for the limits, but dead: a code signs in once
    assert used["expires_at"] <= used["created_at"] + timedelta(seconds=1)
    assert used["attempts"] == 0  # the right code is not a failed attempt
    [session] = sessions
    assert session["tenants"] == {ALPHA: "owner", BETA: "owner"}
    assert OWNER not in str(dict(session))
    assert client.cookies[SESSION_COOKIE] != session["id"]
    actions = [(row["action"], row["tenant"], row["target"]) for row in audit_rows(store_url)]
    assert actions == [("sign_in", ALPHA, "code"), ("sign_in", BETA, "code")]
    assert all(OWNER not in str(row) for row in audit_rows(store_url))


def test_a_code_signs_in_once(client: TestClient, router: RouterPeer) -> None:
    client.post("/signin/code", data={"number": OWNER})
    code, pending = router.last_code(), client.cookies["katha_code"]
    assert client.post("/signin/verify", data={"code": code}).status_code == 303
    client.cookies.clear()
    client.cookies.set("katha_code", pending, path="/signin")
    again = client.post("/signin/verify", data={"code": code})
    assert again.status_code == 400
    assert SESSION_COOKIE not in client.cookies


def test_a_number_that_owns_nothing_gets_the_same_page(
    client: TestClient, router: RouterPeer, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = client.post("/signin/code", data={"number": OWNER})
    client.cookies.clear()
    monkeypatch.setattr(codes, "new_code", lambda: "31415926")  # the stranger's, known here
    stranger = client.post("/signin/code", data={"number": "94700000000"})
    assert (stranger.status_code, stranger.text) == (owner.status_code, owner.text)
    assert [sent["owner_number"] for sent in router.sent] == [OWNER]  # nobody else's phone
    # Nobody can sign in through a code that was never sent anywhere, even knowing it.
    refused = client.post("/signin/verify", data={"code": "31415926"})
    assert refused.status_code == 400
    assert SESSION_COOKIE not in client.cookies
    [failed] = audit_rows(store_url)
    assert (failed["action"], failed["tenant"]) == ("sign_in_failed", None)


def test_five_wrong_codes_kill_the_code(
    client: TestClient, router: RouterPeer, store_url: str
) -> None:
    client.post("/signin/code", data={"number": OWNER})
    right = router.last_code()
    wrong = wrong_code(right)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        answer = client.post("/signin/verify", data={"code": wrong})
        assert answer.status_code == 400
        if attempt < MAX_ATTEMPTS:
            assert 'id="code"' in answer.text  # still asking for the code
    assert "can no longer be used" in answer.text
    failed = [row for row in audit_rows(store_url) if row["action"] == "sign_in_failed"]
    assert len(failed) == MAX_ATTEMPTS * 2  # one row per Business, per attempt
    assert {row["tenant"] for row in failed} == {ALPHA, BETA}


def test_the_right_code_after_five_wrong_ones_is_refused(
    client: TestClient, router: RouterPeer
) -> None:
    client.post("/signin/code", data={"number": OWNER})
    right = router.last_code()
    pending = client.cookies["katha_code"]
    wrong = wrong_code(right)
    for _ in range(MAX_ATTEMPTS):
        client.post("/signin/verify", data={"code": wrong})
    client.cookies.set("katha_code", pending, path="/signin")
    refused = client.post("/signin/verify", data={"code": right})
    assert refused.status_code == 400
    assert SESSION_COOKIE not in client.cookies


def test_an_expired_code_is_refused(client: TestClient, router: RouterPeer, clock: Clock) -> None:
    client.post("/signin/code", data={"number": OWNER})
    clock.advance(minutes=10, seconds=1)
    refused = client.post("/signin/verify", data={"code": router.last_code()})
    assert refused.status_code == 400
    assert "can no longer be used" in refused.text
    assert SESSION_COOKIE not in client.cookies


def test_codes_are_rate_limited_per_number(
    client: TestClient, router: RouterPeer, clock: Clock
) -> None:
    for _ in range(CODES_PER_NUMBER):
        assert client.post("/signin/code", data={"number": OWNER}).status_code == 200
    limited = client.post("/signin/code", data={"number": OWNER})
    assert limited.status_code == 429
    assert len(router.sent) == CODES_PER_NUMBER  # nothing more reached the owner's phone
    # Another number from the same client may still ask; the number again after the window.
    assert client.post("/signin/code", data={"number": "94700000001"}).status_code == 200
    clock.advance(minutes=15, seconds=1)
    assert client.post("/signin/code", data={"number": OWNER}).status_code == 200


def test_codes_are_rate_limited_per_client_behind_trusted_proxies(
    store_url: str, router: RouterPeer
) -> None:
    settings = console_settings(store_url, router.url, trusted_proxies="10.0.0.0/8")
    with TestClient(create_app(settings), follow_redirects=False) as client:
        for number in range(CODES_PER_CLIENT):
            asked = client.post("/signin/code", data={"number": office(number)})
            assert asked.status_code == 200
        assert client.post("/signin/code", data={"number": OWNER}).status_code == 429
    reached = [sent["owner_number"] for sent in router.sent]
    assert reached == [office(number) for number in range(CODES_PER_CLIENT)]  # not OWNER


def test_without_trusted_proxies_the_client_is_nobody_and_not_limited(
    client: TestClient, router: RouterPeer
) -> None:
    # Behind an Ingress every client has the controller's address: limiting it would let
    # one person lock every owner out. Each number keeps its own limit.
    for number in range(CODES_PER_CLIENT + 2):
        asked = client.post("/signin/code", data={"number": office(number)})
        assert asked.status_code == 200
    assert len(router.sent) == CODES_PER_CLIENT + 2


def test_a_number_that_cannot_be_one_is_asked_again(client: TestClient, router: RouterPeer) -> None:
    answer = client.post("/signin/code", data={"number": "call me"})
    assert answer.status_code == 400
    assert "country code" in answer.text
    assert router.sent == []


def test_the_router_down_or_limiting_is_said_plainly(
    client: TestClient, router: RouterPeer, store_url: str
) -> None:
    nowhere = console_settings(store_url, f"http://127.0.0.1:{free_port()}")  # nothing there
    with TestClient(create_app(nowhere)) as down:
        assert down.post("/signin/code", data={"number": OWNER}).status_code == 503
    router.spend_codes(OWNER)  # others asked the router for this number's codes lately
    spent = router.sent
    assert client.post("/signin/code", data={"number": OWNER}).status_code == 429
    assert router.sent == spent  # the router's own limit: nothing more reached the phone


def test_sign_in_never_sends_anyone_to_another_site(client: TestClient, router: RouterPeer) -> None:
    for elsewhere in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        client.post("/signin/code", data={"number": OWNER, "next": elsewhere})
        verified = client.post(
            "/signin/verify", data={"code": router.last_code(), "next": elsewhere}
        )
        assert verified.headers["location"] == "/"
        client.cookies.clear()


def test_the_session_cookie_is_httponly_lax_and_secure_when_asked(
    client: TestClient, router: RouterPeer
) -> None:
    client.post("/signin/code", data={"number": OWNER})
    verified = client.post("/signin/verify", data={"code": router.last_code()})
    cookie = next(
        value
        for value in verified.headers.get_list("set-cookie")
        if value.startswith("katha_session=")
    )
    flags = {part.strip().lower() for part in cookie.split(";")}
    assert {"httponly", "samesite=lax", "path=/"} <= flags
    assert "secure" not in flags  # this app was told plain HTTP (katha up on 127.0.0.1)


def test_cookies_are_secure_by_default(store_url: str, router: RouterPeer) -> None:
    settings = console_settings(store_url, router.url, secure_cookies=True)
    app = create_app(settings)
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as client:
        asked = client.post("/signin/code", data={"number": OWNER})
        verified = client.post("/signin/verify", data={"code": router.last_code()})
    for response in (asked, verified):
        for cookie in response.headers.get_list("set-cookie"):
            flags = {part.strip().lower() for part in cookie.split(";")}
            assert {"secure", "httponly", "samesite=lax"} <= flags


def test_sessions_expire(client: TestClient, router: RouterPeer, clock: Clock) -> None:
    sign_in_with_code(client, router)
    assert client.get(f"/api/v1/tenants/{ALPHA}/tokens").status_code == 200
    clock.advance(hours=12, seconds=1)
    assert client.get(f"/api/v1/tenants/{ALPHA}/tokens").status_code == 401


def test_no_number_or_code_is_logged(
    client: TestClient, router: RouterPeer, store_url: str
) -> None:
    # A console the router refuses (its admin token is wrong): the one path that logs
    # during sign-in.
    wrong_token = {"router_admin_token": SecretStr("not-the-routers-token")}
    refusing = TestClient(create_app(console_settings(store_url, router.url, **wrong_token)))
    with refusing, capture_logs() as logs:
        refusing.post("/signin/code", data={"number": OWNER})
        client.post("/signin/code", data={"number": OWNER})
        wrong = wrong_code(router.last_code())
        client.post("/signin/verify", data={"code": wrong})
        client.post("/signin/verify", data={"code": router.last_code()})
    console = [line["event"] for line in logs if line["component"].startswith("console")]
    assert console == ["console.login_code_refused"]
    # Nor by the router, whose log (the same process here) says only that codes went out.
    assert [line["event"] for line in logs if line["component"] == "router"] == [
        "template.sent",
        "console.login_code_sent",
    ] * 2
    assert OWNER not in str(logs)
    assert router.last_code() not in str(logs)


def test_the_sign_in_pages_speak_sinhala_and_tamil(client: TestClient, router: RouterPeer) -> None:
    assert client.get("/signin/verify").headers["location"] == "/signin"  # nothing asked yet
    client.cookies.set("lang", "si")
    assert "මට කේතයක් එවන්න" in client.get("/signin").text
    client.cookies.set("lang", "ta")
    asked = client.post("/signin/code", data={"number": OWNER})
    assert "குறியீடு 10 நிமிடங்களுக்குச் செல்லுபடியாகும்." in asked.text
