"""LangSmith's ingestion API as the installed langsmith client uses it: `GET /info`, then
runs posted as multipart to `POST /runs/multipart` (or JSON to `POST /runs/batch`)."""

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import policy
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler
from typing import Any

from .loopback import LoopbackPeer, QuietLog


@dataclass
class LangSmithServer(LoopbackPeer):
    base: str = ""
    api_keys: list[str] = field(default_factory=list)
    bodies: list[bytes] = field(default_factory=list)
    runs: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> merged run

    def merge(self, run_id: str, part: str | None, value: Any) -> None:
        run = self.runs.setdefault(run_id, {})
        if part is None:
            run.update(value)
        else:
            run[part] = value

    def handler(self) -> type[BaseHTTPRequestHandler]:
        state = self

        class Handler(QuietLog, BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path != "/info":
                    self._reply(404, {"detail": "not found"})
                    return
                self._reply(200, {"version": "0.10.0", "batch_ingest_config": {}})

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                state.api_keys.append(self.headers.get("x-api-key", ""))
                state.bodies.append(body)
                if self.path == "/runs/multipart":
                    for run_id, part, value in multipart_runs(self.headers["Content-Type"], body):
                        state.merge(run_id, part, value)
                elif self.path == "/runs/batch":
                    batch = json.loads(body)
                    for run in batch.get("post", []) + batch.get("patch", []):
                        state.merge(run["id"], None, run)
                else:
                    self._reply(404, {"detail": "not found"})
                    return
                self._reply(202, {})

            def _reply(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler


def multipart_runs(content_type: str, body: bytes) -> Iterator[tuple[str, str | None, Any]]:
    """(run id, part or None, value) for each part named `post.<id>[.<part>]` / `patch...`."""
    head = f"Content-Type: {content_type}\r\n\r\n".encode()
    message = BytesParser(policy=policy.HTTP).parsebytes(head + body)
    for item in message.iter_parts():
        name = str(item.get_param("name", header="content-disposition"))
        _, run_id, *part = name.split(".")
        payload = item.get_payload(decode=True)
        assert isinstance(payload, bytes)
        yield run_id, part[0] if part else None, json.loads(payload)
