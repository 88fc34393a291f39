"""A Prometheus Pushgateway's push API, where batch jobs (ingestion) push their metrics."""

import base64
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler

from prometheus_client.parser import text_string_to_metric_families

from .loopback import LoopbackPeer, QuietLog


@dataclass
class Pushgateway(LoopbackPeer):
    """A Prometheus Pushgateway's push API: PUT (replace) or POST (merge) a group's metrics at
    /metrics/job/JOB{/LABEL/VALUE}, a LABEL@base64 name meaning a base64url-encoded value."""

    base: str = ""
    groups: dict[tuple[tuple[str, str], ...], str] = field(default_factory=dict)
    methods: list[str] = field(default_factory=list)

    def samples(self, **group: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        """The samples of the group with these labels: (name, sorted labels) -> value."""
        text = self.groups[tuple(sorted(group.items()))]
        return {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
        }

    def handler(self) -> type[BaseHTTPRequestHandler]:
        state = self

        class Handler(QuietLog, BaseHTTPRequestHandler):
            def do_PUT(self) -> None:
                self._push()

            def do_POST(self) -> None:
                self._push()

            def _push(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                parts = self.path.strip("/").split("/")
                if parts[:2] != ["metrics", "job"] or len(parts) % 2 == 0:
                    self.send_response(400)
                elif not self.headers["Content-Type"].startswith("text/plain"):
                    self.send_response(415)
                else:
                    group = {"job": parts[2]}
                    for name, value in zip(parts[3::2], parts[4::2], strict=True):
                        if name.endswith("@base64"):
                            name, value = name.removesuffix("@base64"), _unbase64(value)
                        group[name] = urllib.parse.unquote_plus(value)
                    text_string_to_metric_families(body)  # must parse, or the push is refused
                    state.groups[tuple(sorted(group.items()))] = body
                    state.methods.append(self.command)
                    self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        return Handler


def _unbase64(value: str) -> str:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
