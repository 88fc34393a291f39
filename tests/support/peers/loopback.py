"""The one way tests serve a peer on a free loopback port.

Two entry points, one per kind of server a peer is: `serve_http` runs a standard-library
handler class (what a CONNECT proxy with TLS inside, or a peer answering byte for byte,
needs), `ServerThread` runs an ASGI app under uvicorn (the router under test, and peers
written as FastAPI apps). `LoopbackPeer` gives a handler-based peer its `serve()`.
"""

import json
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

import uvicorn


@contextmanager
def serve_http(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """Serve `handler` until the block ends; yields the base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class LoopbackPeer(ABC):
    """A peer whose state is `self` and whose protocol is the handler class `handler()`
    builds; `serve()` runs it and sets `base` to its URL."""

    base: str

    @abstractmethod
    def handler(self) -> type[BaseHTTPRequestHandler]:
        """The request handler class, closing over this peer's state."""

    @contextmanager
    def serve(self) -> Iterator[Self]:
        with serve_http(self.handler()) as base:
            self.base = base
            yield self


class QuietLog:
    """Mixed in before BaseHTTPRequestHandler: no access lines in the test output."""

    def log_message(self, *args: Any) -> None:
        pass


def send_json(handler: BaseHTTPRequestHandler, status: int, body: dict[str, Any]) -> None:
    """Answer `body` as JSON; a client that already gave up is not an error."""
    data = json.dumps(body, ensure_ascii=False).encode()
    try:
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the client timed out first


class ServerThread:
    """A uvicorn server for an ASGI app, on a free loopback port, in its own thread."""

    def __init__(self, app: Any, port: int = 0) -> None:
        config = uvicorn.Config(
            app, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="on"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "ServerThread":
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the local server did not start")
            time.sleep(0.01)
        self.port = self.server.servers[0].sockets[0].getsockname()[1]
        return self

    def request_stop(self) -> None:
        """Ask the server to stop without waiting (stop several at once, then `stop`)."""
        self.server.should_exit = True

    def stop(self) -> None:
        self.request_stop()
        self.thread.join(timeout=15)
