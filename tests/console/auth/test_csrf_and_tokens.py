"""CSRF on every change made with a session; per-Business API tokens for owners only; a
Business the caller lacks is 404, unauthenticated API calls 401, pages go to sign-in."""

from datetime import datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import insert

from console.auth.api_tokens import new_token
from console.auth.keys import plain_hash
from console.auth.sessions import SESSION_COOKIE, csrf_for
from console.housekeeping import TOKENS_KEPT_DAYS, forget_old
from console.settings import ConsoleSettings
from katha.store.console_tables import console_api_tokens
from katha.store.engines import sync_engine

from .conftest import ALPHA, BETA, GAMMA, START, Clock, audit_rows, session_for


def signed_in(client: TestClient, store_url: str, tenants: dict[str, str]) -> str:
    """Give the client a session with these roles; its CSRF token."""
    token = session_for(store_url, tenants)
    client.cookies.set(SESSION_COOKIE, token)
    settings: ConsoleSettings = client.app.state.services.settings  # type: ignore[attr-defined]
    return csrf_for(settings, token)


def tokens(tenant: str) -> str:
    return f"/api/v1/tenants/{tenant}/tokens"


def test_changes_with_a_session_need_the_csrf_token(client: TestClient, store_url: str) -> None:
    csrf = signed_in(client, store_url, {ALPHA: "owner"})
    assert client.post(tokens(ALPHA), json={"name": "shop"}).status_code == 403
    wrong = {"X-CSRF-Token": csrf_for(client.app.state.services.settings, "another")}  # type: ignore[attr-defined]
    assert client.post(tokens(ALPHA), json={"name": "shop"}, headers=wrong).status_code == 403
    made = client.post(tokens(ALPHA), json={"name": "shop"}, headers={"X-CSRF-Token": csrf})
    assert made.status_code == 201
    token_id = made.json()["id"]
    assert client.delete(f"{tokens(ALPHA)}/{token_id}").status_code == 403
    # Reading needs no token; a form carries it as the `csrf` field.
    assert client.get(tokens(ALPHA)).status_code == 200
    assert client.post("/signout", data={}).status_code == 403
    assert client.post("/signout", data={"csrf": csrf}).status_code == 303
    assert client.get(tokens(ALPHA)).status_code == 401  # the session is gone
    assert [row["action"] for row in audit_rows(store_url)] == ["token_created", "sign_out"]


def test_an_api_token_is_shown_once_and_works_as_staff_of_its_business(
    client: TestClient, store_url: str
) -> None:
    csrf = {"X-CSRF-Token": signed_in(client, store_url, {ALPHA: "owner", BETA: "owner"})}
    made = client.post(tokens(ALPHA), json={"name": "order system"}, headers=csrf).json()
    assert made["token"].startswith("katha_")
    listed = client.get(tokens(ALPHA)).json()
    assert [item["name"] for item in listed] == ["order system"]
    assert made["token"] not in str(listed)
    assert listed[0]["last_used_at"] is None
    assert client.get(tokens(BETA)).json() == []
    client.cookies.clear()
    bearer = {"Authorization": f"Bearer {made['token']}"}
    # Staff of ALPHA: may not manage tokens (404, as for a Business it lacks), nor see BETA.
    assert client.get(tokens(ALPHA), headers=bearer).status_code == 404
    assert client.get(tokens(BETA), headers=bearer).status_code == 404
    # Exempt from CSRF (no browser sends it by itself): refused for the role, not the token.
    assert client.post(tokens(ALPHA), json={"name": "x"}, headers=bearer).status_code == 404
    fake = {"Authorization": f"Bearer {made['token'][:-2]}xx"}
    assert client.get(tokens(ALPHA), headers=fake).status_code == 401
    assert client.get(tokens(ALPHA), headers={"Authorization": "Bearer nope"}).status_code == 401


def test_a_token_used_is_dated_and_a_deleted_token_stops_working(
    client: TestClient, store_url: str
) -> None:
    csrf = {"X-CSRF-Token": signed_in(client, store_url, {ALPHA: "owner"})}
    made = client.post(tokens(ALPHA), json={"name": "crm"}, headers=csrf).json()
    session = client.cookies[SESSION_COOKIE]
    client.cookies.clear()
    bearer = {"Authorization": f"Bearer {made['token']}"}
    assert client.get("/api/v1/tenants/shops/alpha/tokens", headers=bearer).status_code == 404
    client.cookies.set(SESSION_COOKIE, session)
    [listed] = client.get(tokens(ALPHA)).json()
    assert listed["last_used_at"] is not None
    assert client.delete(f"{tokens(BETA)}/{made['id']}", headers=csrf).status_code == 404
    assert client.delete(f"{tokens(ALPHA)}/{made['id']}", headers=csrf).status_code == 204
    assert client.delete(f"{tokens(ALPHA)}/{made['id']}", headers=csrf).status_code == 404
    client.cookies.clear()
    assert client.get(tokens(ALPHA), headers=bearer).status_code == 401
    actions = [(row["action"], row["tenant"], row["target"]) for row in audit_rows(store_url)]
    assert actions == [
        ("token_created", ALPHA, made["id"]),
        ("token_deleted", ALPHA, made["id"]),
    ]
    assert all(row["client_ip"] == "testclient" for row in audit_rows(store_url))


def test_staff_and_strangers_get_404_never_403(client: TestClient, store_url: str) -> None:
    csrf = {"X-CSRF-Token": signed_in(client, store_url, {ALPHA: "staff", BETA: "owner"})}
    for tenant in (ALPHA, GAMMA):  # staff here; nothing at all there
        assert client.get(tokens(tenant)).status_code == 404
        assert client.post(tokens(tenant), json={"name": "x"}, headers=csrf).status_code == 404
        assert client.delete(f"{tokens(tenant)}/abc", headers=csrf).status_code == 404
    assert client.get(tokens(BETA)).status_code == 200


def test_nobody_signed_in_gets_401_on_the_api_and_sign_in_for_pages(client: TestClient) -> None:
    for method in ("GET", "POST"):
        answer = client.request(method, tokens(ALPHA), json={"name": "x"})
        assert answer.status_code == 401
        assert answer.headers["www-authenticate"] == "Bearer"
    assert client.delete(f"{tokens(ALPHA)}/abc").status_code == 401
    client.cookies.set(SESSION_COOKIE, "not-a-session")
    assert client.get(tokens(ALPHA)).status_code == 401
    page = client.post("/signout", data={})
    assert page.status_code == 303
    assert page.headers["location"] == "/signin?next=%2Fsignout"


def test_an_api_token_ends_after_its_days_and_the_list_says_so(
    client: TestClient, store_url: str, clock: Clock
) -> None:
    csrf = {"X-CSRF-Token": signed_in(client, store_url, {ALPHA: "owner"})}
    usual = client.post(tokens(ALPHA), json={"name": "crm"}, headers=csrf).json()
    assert datetime.fromisoformat(usual["expires_at"]) == START + timedelta(days=90)
    short = client.post(
        tokens(ALPHA), json={"name": "one day", "expires_in_days": 1}, headers=csrf
    ).json()
    for days in (0, 366, "forever", True, 30.5):  # no token without an end, whole days
        asked = {"name": "x", "expires_in_days": days}
        assert client.post(tokens(ALPHA), json=asked, headers=csrf).status_code == 422
    client.cookies.clear()
    bearer = {"Authorization": f"Bearer {short['token']}"}
    read = "/api/v1/tenants/shops/alpha/conversations"
    assert client.get(read, headers=bearer).status_code == 200
    clock.advance(hours=23, minutes=59)
    assert client.get(read, headers=bearer).status_code == 200
    clock.advance(minutes=1)
    assert client.get(read, headers=bearer).status_code == 401  # ended
    usual_bearer = {"Authorization": f"Bearer {usual['token']}"}
    assert client.get(read, headers=usual_bearer).status_code == 200
    # The first session ended meanwhile: a new one, signed in now.
    client.cookies.set(SESSION_COOKIE, session_for(store_url, {ALPHA: "owner"}, at=clock.now))
    listed = {item["name"]: item["expired"] for item in client.get(tokens(ALPHA)).json()}
    assert listed == {"crm": False, "one day": True}
    # The list shows an ended token for TOKENS_KEPT_DAYS, then the cleanup forgets it.
    services = client.app.state.services  # type: ignore[attr-defined]
    clock.advance(days=TOKENS_KEPT_DAYS - 1)
    client.portal.call(forget_old, services)  # type: ignore[union-attr]
    client.cookies.set(SESSION_COOKIE, session_for(store_url, {ALPHA: "owner"}, at=clock.now))
    assert sorted(item["name"] for item in client.get(tokens(ALPHA)).json()) == ["crm", "one day"]
    clock.advance(days=1)
    client.portal.call(forget_old, services)  # type: ignore[union-attr]
    client.cookies.set(SESSION_COOKIE, session_for(store_url, {ALPHA: "owner"}, at=clock.now))
    assert [item["name"] for item in client.get(tokens(ALPHA)).json()] == ["crm"]


def test_a_token_made_by_the_release_before_token_ends_works_for_the_usual_days(
    client: TestClient, store_url: str, clock: Clock
) -> None:
    """While a release with token ends rolls out, a console of the release before still
    serves and writes tokens without an end: such a token works as a new one would."""
    token_id, token = new_token()
    engine = sync_engine(store_url)
    with engine.begin() as connection:
        connection.execute(
            insert(console_api_tokens).values(
                id=token_id, tenant=ALPHA, name="old console", token_hash=plain_hash(token),
                created_at=START, created_by="oidc:test#u",
            )
        )  # fmt: skip
    engine.dispose()
    bearer = {"Authorization": f"Bearer {token}"}
    read = "/api/v1/tenants/shops/alpha/conversations"
    assert client.get(read, headers=bearer).status_code == 200
    clock.advance(days=90)
    assert client.get(read, headers=bearer).status_code == 401
    client.cookies.set(SESSION_COOKIE, session_for(store_url, {ALPHA: "owner"}, at=clock.now))
    [listed] = client.get(tokens(ALPHA)).json()
    assert datetime.fromisoformat(listed["expires_at"]) == START + timedelta(days=90)
    assert listed["expired"]
    clock.advance(days=TOKENS_KEPT_DAYS)  # its end is worked out as the list works it out
    client.portal.call(forget_old, client.app.state.services)  # type: ignore[attr-defined,union-attr]
    client.cookies.set(SESSION_COOKIE, session_for(store_url, {ALPHA: "owner"}, at=clock.now))
    assert client.get(tokens(ALPHA)).json() == []
