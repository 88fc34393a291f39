"""The router's hot-path POSTs: proxies from the environment, failures as one error."""

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest

from router.http import JsonPoster, Posted, PostFailedError, json_body, proxy_for

HOST = "graph.example.invalid"  # never resolves: only a proxy can reach it


@pytest.fixture
async def proxy() -> AsyncIterator[tuple[int, list[str]]]:
    """A loopback forward proxy: it records each request line and answers as Meta would."""
    async with _server(b"HTTP/1.1 200 OK", b'{"messages":[{"id":"wamid.1"}]}') as running:
        yield running


@contextlib.asynccontextmanager
async def _server(status: bytes, body: bytes) -> AsyncIterator[tuple[int, list[str]]]:
    seen: list[str] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode()
        seen.append(head.split("\r\n", 1)[0])
        length = next(
            int(line.split(":", 1)[1])
            for line in head.split("\r\n")
            if line.lower().startswith("content-length:")
        )
        await reader.readexactly(length)
        writer.write(
            status
            + b"\r\nContent-Type: application/json\r\nLocation: http://127.0.0.1:9/elsewhere\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    async with server:
        yield server.sockets[0].getsockname()[1], seen


@pytest.fixture(autouse=True)
def fresh_proxy_lookup() -> None:
    proxy_for.cache_clear()


def only_proxies(monkeypatch: pytest.MonkeyPatch, **variables: str) -> None:
    """The environment names these proxy variables and no other."""
    for name in ("HTTP_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)


async def post_once(url: str, body: bytes = b"{}") -> Posted:
    """One POST through a pool of its own, closed afterwards."""
    poster = JsonPoster(4, 5.0)
    try:
        return await poster.post(url, body)
    finally:
        await poster.aclose()


async def test_posts_go_through_the_proxy_the_environment_names(
    proxy: tuple[int, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    port, seen = proxy
    only_proxies(monkeypatch, HTTP_PROXY=f"http://127.0.0.1:{port}")
    answer = await post_once(f"http://{HOST}/v23.0/123/messages", json_body({"a": "ශ්‍රී"}))
    assert answer.status == 200
    assert answer.json()["messages"][0]["id"] == "wamid.1"
    assert seen == [f"POST http://{HOST}/v23.0/123/messages HTTP/1.1"]


async def test_a_host_in_no_proxy_is_reached_directly(
    proxy: tuple[int, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    port, seen = proxy
    only_proxies(monkeypatch, HTTP_PROXY=f"http://127.0.0.1:{port}", NO_PROXY=HOST)
    with pytest.raises(PostFailedError):  # directly, the name does not resolve
        await post_once(f"http://{HOST}/v23.0/123/messages")
    assert seen == []


async def test_no_answer_is_one_error_the_callers_retry_on(unused_tcp_port: int) -> None:
    with pytest.raises(PostFailedError, match="ClientConnectorError"):
        await post_once(f"http://127.0.0.1:{unused_tcp_port}/v1/messages")


@pytest.mark.parametrize("variable", ["HTTP_PROXY", "ALL_PROXY"])
async def test_a_proxy_named_without_a_scheme_or_for_all_protocols_is_used(
    proxy: tuple[int, list[str]], monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    port, seen = proxy
    only_proxies(monkeypatch, **{variable: f"127.0.0.1:{port}"})
    answer = await post_once(f"http://{HOST}/v23.0/123/messages")
    assert answer.status == 200
    assert len(seen) == 1


async def test_a_redirect_is_an_answer_not_followed() -> None:
    """A redirected POST could turn into a GET whose 200 says nothing of the message."""
    async with _server(b"HTTP/1.1 302 Found", b"") as (port, seen):
        answer = await post_once(f"http://127.0.0.1:{port}/v23.0/123/messages")
    assert answer.status == 302
    assert not answer.is_success
    assert seen == ["POST /v23.0/123/messages HTTP/1.1"]


async def test_a_closed_poster_sends_nothing() -> None:
    poster = JsonPoster(4, 5.0)
    await poster.aclose()
    with pytest.raises(PostFailedError, match="closed"):
        await poster.post("http://127.0.0.1:9/v1/messages", b"{}")
