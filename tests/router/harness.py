"""The router under test: `create_app` under uvicorn in a thread (RouterHarness), or
`python -m router` in a subprocess that a test can SIGKILL (RouterProcess)."""

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
from peers.graph_api import GraphApi
from peers.loopback import ServerThread
from peers.whatsapp_webhooks import notification, signed, text

from router.app import create_app
from router.business_status import StatusWriter
from router.services import Services
from router.settings import RouterSettings

FAST = {
    "retry_base_seconds": 0.05,
    "retry_max_seconds": 0.3,
    "breaker_failures": 3,
    "breaker_reset_seconds": 0.3,
    "idle_poll_seconds": 0.02,
    "routes_poll_seconds": 0.2,
    "agent_timeout_seconds": 5.0,
    "graph_timeout_seconds": 5.0,
    "lease_seconds": 1.0,
}


@dataclass
class Tenant:
    name: str
    phone_number_id: str
    endpoint: str
    app_secret: str
    access_token: str
    verify_token: str
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def named(cls, name: str, phone_number_id: str, endpoint: str) -> "Tenant":
        return cls(
            name=name,
            phone_number_id=phone_number_id,
            endpoint=endpoint,
            app_secret=f"{name}-app-secret-4f9a8b",
            access_token=f"EAAG{name}AccessToken0123456789abcdef",
            verify_token=f"{name}-verify-7c6d5e",
        )

    def route(self) -> dict[str, Any]:
        return {
            "phone_number_id": self.phone_number_id,
            "tenant": f"tenants/{self.name}",
            "endpoint": self.endpoint,
            "credentials": {
                "access_token": self.access_token,
                "app_secret": self.app_secret,
                "verify_token": self.verify_token,
            },
            **self.extra,
        }


def write_routes(path: Path, tenants: list[Tenant]) -> None:
    staging = path.with_suffix(".tmp")
    staging.write_text(json.dumps({"routes": [tenant.route() for tenant in tenants]}))
    staging.replace(path)


def wait_for(condition: Callable[[], Any], timeout: float = 10.0, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what or condition}")
        time.sleep(0.02)


class RouterClient:
    """Posts signed webhooks the way Meta does."""

    url: str
    tenants: dict[str, Tenant]

    def post(
        self, payload: dict[str, Any] | bytes, secret: str | None, **headers: str
    ) -> httpx.Response:
        body, signed_headers = signed(payload, secret or "unused-secret-123")
        if secret is None:
            signed_headers.pop("X-Hub-Signature-256")
        return httpx.post(
            f"{self.url}/webhooks/whatsapp", content=body, headers={**signed_headers, **headers}
        )

    def say(self, tenant: str, body: str, sender: str = "94771234567", **extra: Any) -> str:
        """A customer writes `body` to `tenant`'s number; the message id."""
        who = self.tenants[tenant]
        message = text(body, sender=sender, **extra)
        response = self.post(notification(who.phone_number_id, [message]), who.app_secret)
        assert response.status_code == 200, response.text
        return str(message["id"])


class RouterHarness(RouterClient):
    def __init__(
        self,
        workdir: Path,
        inbox_url: str,
        graph: GraphApi,
        tenants: list[Tenant],
        **overrides: Any,
    ) -> None:
        self.routes_file = workdir / "routes.json"
        write_routes(self.routes_file, tenants)
        self.tenants = {tenant.name: tenant for tenant in tenants}
        status: StatusWriter | None = overrides.pop("status", None)
        self.settings = RouterSettings(
            routes_file=self.routes_file,
            inbox_url=inbox_url,
            graph_api_url=graph.url,
            **{**FAST, **overrides},
        )
        self.app = create_app(self.settings, status=status)
        self.server = ServerThread(self.app)

    @property
    def services(self) -> Services:
        services: Services = self.app.state.services
        return services

    def __enter__(self) -> "RouterHarness":
        self.server.start()
        self.url = self.server.url
        wait_for(lambda: httpx.get(f"{self.url}/readyz").status_code == 200, what="readiness")
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.server.request_stop()  # the `servers` fixture waits for every server at once

    def metrics(self) -> str:
        return httpx.get(f"{self.url}/metrics").text


class RouterProcess(RouterClient):
    """`python -m router` in its own process group, so a test can SIGKILL it mid-work."""

    def __init__(
        self, workdir: Path, inbox_url: str, graph: GraphApi, tenants: list[Tenant], port: int
    ) -> None:
        self.routes_file = workdir / "routes.json"
        write_routes(self.routes_file, tenants)
        self.tenants = {tenant.name: tenant for tenant in tenants}
        self.url = f"http://127.0.0.1:{port}"
        self.log = workdir / "router.log"
        self.env = {
            **os.environ,
            "KATHA_ROUTER_HOST": "127.0.0.1",
            "KATHA_ROUTER_PORT": str(port),
            "KATHA_ROUTER_ROUTES_FILE": str(self.routes_file),
            "KATHA_ROUTER_INBOX_URL": inbox_url,
            "KATHA_ROUTER_GRAPH_API_URL": graph.url,
            "KATHA_ROUTER_LOG_FORMAT": "json",
            **{f"KATHA_ROUTER_{key.upper()}": str(value) for key, value in FAST.items()},
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> "RouterProcess":
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "router"], env=self.env, stdout=log, stderr=log
            )
        try:
            wait_for(self._ready, timeout=30, what="the router process")
        except BaseException:
            self._kill_quietly()  # never left running, claiming from a store other tests use
            raise
        return self

    def _ready(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"the router exited: {self.log.read_text()[-2000:]}")
        try:
            return httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        """SIGTERM, as Kubernetes sends it; a router still running after 15 s is killed
        (so it cannot go on claiming from an inbox other tests use) and the test fails
        with the end of its log."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self._kill_quietly()
            raise AssertionError(
                f"the router did not stop within 15 s of SIGTERM: {self.log.read_text()[-4000:]}"
            ) from None

    def _kill_quietly(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
