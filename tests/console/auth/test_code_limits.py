"""The limits on sign-in codes hold under pressure: many requests at once for one number,
clients told apart only through trusted proxies, a day's budget of wrong codes per number
over all its codes, and an answer that takes as long whether or not the number owns a
Business."""

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient
from peers.loopback import ServerThread
from ports import free_port

from console.__main__ import server_options
from console.app import create_app
from console.auth import codes
from console.auth.codes import CODES_PER_CLIENT, CODES_PER_NUMBER, FAILED_PER_NUMBER, MAX_ATTEMPTS
from console.auth.sessions import SESSION_COOKIE
from console.settings import ConsoleSettings

from .conftest import OWNER, Clock, RouterPeer, console_settings, wrong_code


async def test_many_requests_at_once_for_one_number_send_no_more_than_the_limit(
    settings: ConsoleSettings, router: RouterPeer
) -> None:
    server = ServerThread(create_app(settings)).start()
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            answers = await asyncio.gather(
                *(client.post("/signin/code", data={"number": OWNER}) for _ in range(20))
            )
    finally:
        server.stop()
    statuses = sorted(answer.status_code for answer in answers)
    assert len(router.sent) <= CODES_PER_NUMBER
    assert statuses.count(200) == len(router.sent)
    assert set(statuses) <= {200, 429}


@contextmanager
def served(settings: ConsoleSettings) -> Iterator[str]:
    """The console under uvicorn as `python -m console` runs it (its proxy settings)."""
    options = server_options(settings) | {"host": "127.0.0.1", "port": free_port()}
    server = uvicorn.Server(uvicorn.Config(create_app(settings), lifespan="on", **options))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{options['port']}", timeout=30) as probe:
            for _ in range(200):
                try:
                    probe.get("/healthz")
                    break
                except httpx.TransportError:
                    threading.Event().wait(0.05)
        yield f"http://127.0.0.1:{options['port']}"
    finally:
        server.should_exit = True
        thread.join(10)


def ask(url: str, number: str, forwarded_for: str) -> int:
    with httpx.Client(base_url=url, timeout=30) as client:
        answer = client.post(
            "/signin/code", data={"number": number}, headers={"X-Forwarded-For": forwarded_for}
        )
    return answer.status_code


def test_behind_a_trusted_proxy_each_client_has_its_own_limit(
    store_url: str, router: RouterPeer
) -> None:
    settings = console_settings(store_url, router.url, trusted_proxies="127.0.0.1/32, ::1")
    with served(settings) as url:
        for number in range(CODES_PER_CLIENT):
            assert ask(url, f"9470000{number:04d}", "203.0.113.7") == 200
        assert ask(url, "94700009998", "203.0.113.7") == 429
        assert ask(url, "94700009999", "203.0.113.8") == 200  # another person behind it


def test_an_untrusted_forwarded_for_changes_nothing(store_url: str, router: RouterPeer) -> None:
    settings = console_settings(store_url, router.url, trusted_proxies="10.0.0.0/8")
    with served(settings) as url:
        for number in range(CODES_PER_CLIENT):
            assert ask(url, f"9470000{number:04d}", f"203.0.113.{number}") == 200
        # Every request came from 127.0.0.1, whatever it claimed: that client is limited.
        assert ask(url, "94700009999", "198.51.100.1") == 429


def test_the_server_never_believes_any_proxy_and_logs_no_urls() -> None:
    assert server_options(ConsoleSettings())["proxy_headers"] is False
    options = server_options(ConsoleSettings(trusted_proxies="10.0.0.0/8,192.168.1.5"))
    assert options["proxy_headers"] is True
    assert options["forwarded_allow_ips"] == ["10.0.0.0/8", "192.168.1.5"]
    assert options["access_log"] is False  # the OIDC callback's URL carries a code
    with pytest.raises(ValueError, match="trusted_proxies"):
        ConsoleSettings(trusted_proxies="*")


def test_a_number_gets_ten_wrong_codes_a_day_over_all_its_codes(
    client: TestClient, router: RouterPeer, clock: Clock
) -> None:
    # Two codes, five wrong guesses each: the number's budget for the day is spent.
    for _ in range(FAILED_PER_NUMBER // MAX_ATTEMPTS):
        client.post("/signin/code", data={"number": OWNER})
        for _ in range(MAX_ATTEMPTS):
            client.post("/signin/verify", data={"code": wrong_code(router.last_code())})
    client.post("/signin/code", data={"number": OWNER})
    refused = client.post("/signin/verify", data={"code": router.last_code()})
    assert refused.status_code == 400
    assert "Try again tomorrow" in refused.text
    assert SESSION_COOKIE not in client.cookies
    clock.advance(hours=24, seconds=1)
    client.post("/signin/code", data={"number": OWNER})
    assert client.post("/signin/verify", data={"code": router.last_code()}).status_code == 303


def test_a_number_that_owns_nothing_is_answered_no_sooner(
    client: TestClient, router: RouterPeer, monkeypatch: pytest.MonkeyPatch
) -> None:
    waits: list[float] = []

    async def recorded(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(codes, "MIN_ANSWER_SECONDS", 2.5)
    monkeypatch.setattr(codes, "pause", recorded)
    client.post("/signin/code", data={"number": OWNER})
    client.post("/signin/code", data={"number": "94700000000"})
    # Each answer waited for the rest of the same 2.5 s from when its request came.
    assert len(waits) == 2
    assert all(0 < wait <= 2.5 for wait in waits)
