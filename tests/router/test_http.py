"""The router's hot-path POSTs: proxies from the environment, failures as one error."""

import asyncio
from collections.abc import AsyncIterator

import pytest

from router.http import JsonPoster, PostFailedError, json_body, proxy_for

HOST = "graph.example.invalid"  # never resolves: only a proxy can reach it


@pytest.fixture
async def proxy() -> AsyncIterator[tuple[int, list[str]]]:
    """A loopback forward proxy: it records each request line and answers as Meta would."""
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
        body = b'{"messages":[{"id":"wamid.1"}]}'
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
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


async def test_posts_go_through_the_proxy_the_environment_names(
    proxy: tuple[int, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    port, seen = proxy
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{port}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    poster = JsonPoster(4, 5.0)
    try:
        answer = await poster.post(f"http://{HOST}/v23.0/123/messages", json_body({"a": "ශ්‍රී"}))
    finally:
        await poster.aclose()
    assert answer.status == 200
    assert answer.json()["messages"][0]["id"] == "wamid.1"
    assert seen == [f"POST http://{HOST}/v23.0/123/messages HTTP/1.1"]


async def test_a_host_in_no_proxy_is_reached_directly(
    proxy: tuple[int, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    port, seen = proxy
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("NO_PROXY", HOST)
    poster = JsonPoster(4, 5.0)
    try:
        with pytest.raises(PostFailedError):  # directly, the name does not resolve
            await poster.post(f"http://{HOST}/v23.0/123/messages", b"{}")
    finally:
        await poster.aclose()
    assert seen == []


async def test_no_answer_is_one_error_the_callers_retry_on(unused_tcp_port: int) -> None:
    poster = JsonPoster(4, 5.0)
    try:
        with pytest.raises(PostFailedError, match="ClientConnectorError"):
            await poster.post(f"http://127.0.0.1:{unused_tcp_port}/v1/messages", b"{}")
    finally:
        await poster.aclose()
