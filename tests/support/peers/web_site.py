"""A web site that ingestion crawls: pages by path, every GET recorded."""

import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler

from .loopback import LoopbackPeer, QuietLog


@dataclass
class Site(LoopbackPeer):
    """A web site on loopback: path -> (status, content type, body); every GET is recorded."""

    pages: dict[str, tuple[int, str, bytes]] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    delays: dict[str, float] = field(default_factory=dict)
    base: str = ""

    def html(self, path: str, body: str, status: int = 200) -> None:
        self.pages[path] = (status, "text/html; charset=utf-8", body.encode())

    def file(self, path: str, content_type: str, body: bytes) -> None:
        self.pages[path] = (200, content_type, body)

    def handler(self) -> type[BaseHTTPRequestHandler]:
        state = self

        class Handler(QuietLog, BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                state.requests.append(self.path)
                time.sleep(state.delays.get(self.path, 0))
                status, content_type, body = state.pages.get(self.path, (404, "text/plain", b"no"))
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up first (a timeout test)

        return Handler
