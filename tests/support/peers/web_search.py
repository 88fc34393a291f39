"""The agent's web search backends with a JSON API: SearXNG (self-hosted, GET
/search?format=json) and Tavily (SaaS, POST /search); every query recorded. DuckDuckGo,
reached through a proxy, is duckduckgo.py."""

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from .loopback import LoopbackPeer, QuietLog, send_json


@dataclass
class SearxngServer(LoopbackPeer):
    """SearXNG's GET /search?format=json; `results` is what it finds for any query."""

    base: str = ""
    queries: list[dict[str, str]] = field(default_factory=list)
    results: list[dict[str, Any]] = field(default_factory=list)
    delay: float = 0.0

    def handler(self) -> type[BaseHTTPRequestHandler]:
        state = self

        class Handler(QuietLog, BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urlsplit(self.path)
                query = dict(parse_qsl(url.query))
                state.queries.append(query)
                threading.Event().wait(state.delay)
                if url.path != "/search" or query.get("format") != "json":
                    send_json(self, 403, {"error": "format not allowed"})  # SearXNG's refusal
                    return
                send_json(self, 200, {"query": query.get("q"), "results": state.results})

        return Handler


@dataclass
class TavilyServer(LoopbackPeer):
    """Tavily's POST /search; `results` answer every query, `seen` holds (Authorization, body)."""

    base: str = ""
    results: list[dict[str, Any]] = field(default_factory=list)
    seen: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def handler(self) -> type[BaseHTTPRequestHandler]:
        state = self

        class Handler(QuietLog, BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                state.seen.append((self.headers["Authorization"], body))
                send_json(self, 200, {"results": state.results})

        return Handler
