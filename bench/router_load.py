"""An open-loop load client for bench/router.py: requests at a fixed rate over keep-alive
connections, latency measured from each request's scheduled time (so a stalled server
cannot hide its backlog, unlike a closed-loop generator)."""

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass
class LoadResult:
    sent: int
    ok: int
    errors: int
    latencies: list[float]  # seconds, successful requests only
    seconds: float

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.latencies)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _request(host: str, port: int, path: str, body: bytes, headers: dict[str, str]) -> bytes:
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}:{port}", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    if length:
        await reader.readexactly(length)
    return status


async def run_open_loop(
    host: str,
    port: int,
    requests: Sequence[tuple[bytes, dict[str, str]]],
    rate: float,
    connections: int = 32,
    path: str = "/webhooks/whatsapp",
) -> LoadResult:
    queue: asyncio.Queue[tuple[float, bytes] | None] = asyncio.Queue()
    latencies: list[float] = []
    counts = {"ok": 0, "errors": 0}

    async def connection() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while (job := await queue.get()) is not None:
                scheduled, raw = job
                writer.write(raw)
                await writer.drain()
                status = await _read_response(reader)
                if status == 200:
                    counts["ok"] += 1
                    latencies.append(time.perf_counter() - scheduled)
                else:
                    counts["errors"] += 1
        finally:
            writer.close()

    workers = [asyncio.create_task(connection()) for _ in range(connections)]
    started = time.perf_counter()
    for index, (body, headers) in enumerate(requests):
        scheduled = started + index / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        queue.put_nowait((scheduled, _request(host, port, path, body, headers)))
    for _ in workers:
        queue.put_nowait(None)
    await asyncio.gather(*workers)
    return LoadResult(
        len(requests), counts["ok"], counts["errors"], latencies, time.perf_counter() - started
    )
