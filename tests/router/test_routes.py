"""The routing table comes from a file on one machine and from one watched Secret in a
cluster; the router is not ready until it has one, and a broken table never replaces a
good one."""

import asyncio
import base64
import contextlib
import json
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse
from harness import RouterHarness, Tenant, free_port, wait_for, write_routes
from peers import GraphApi, ServerThread
from whatsapp import notification, text

from katha.routing import ROUTES_KEY
from router.app import create_app
from router.routebook import FileRouteSource, RouteBook
from router.routes_kubernetes import SecretRouteSource
from router.settings import RouterSettings


def test_the_router_is_not_ready_without_a_routing_table(
    tmp_path: Path, graph: GraphApi, tenants: dict[str, Tenant]
) -> None:
    routes = tmp_path / "routes.json"
    settings = RouterSettings(
        routes_file=routes,
        inbox_url=f"sqlite://{tmp_path / 'inbox.db'}",
        graph_api_url=graph.url,  # type: ignore[attr-defined]
        routes_poll_seconds=0.1,
    )
    server = ServerThread(create_app(settings)).start()
    try:
        ready = httpx.get(f"{server.url}/readyz")
        assert ready.status_code == 503
        assert ready.json()["routes"] is False
        write_routes(routes, list(tenants.values()))
        wait_for(lambda: httpx.get(f"{server.url}/readyz").status_code == 200, timeout=3)
    finally:
        server.stop()


def test_the_file_source_refuses_a_broken_table(tmp_path: Path, tenants: dict[str, Tenant]) -> None:
    routes = tmp_path / "routes.json"
    write_routes(routes, list(tenants.values()))
    book = RouteBook()
    source = FileRouteSource(routes, book)
    source.load()
    assert book.route_for(tenants["alpha"].phone_number_id) is not None
    routes.write_text(json.dumps({"routes": [{"phone_number_id": "not-a-number"}]}))
    source.load()
    assert book.route_for(tenants["alpha"].phone_number_id) is not None
    assert len(book.app_secrets) == 2


class SecretServer:
    """The Kubernetes API for one Secret: GET it, and watch it (JSON lines, one event per
    change) as `GET /api/v1/namespaces/{ns}/secrets?watch=true&fieldSelector=...`."""

    def __init__(self, namespace: str, name: str, routes: dict[str, Any] | None) -> None:
        self.namespace, self.name, self.version = namespace, name, 1
        self.secret: dict[str, Any] | None = self._secret(routes) if routes is not None else None
        self.changes: asyncio.Queue[dict[str, Any]] | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.tokens: list[str | None] = []

    def _secret(self, routes: dict[str, Any]) -> dict[str, Any]:
        data = base64.b64encode(json.dumps(routes).encode()).decode()
        return {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "Opaque",
            "metadata": {
                "name": self.name,
                "namespace": self.namespace,
                "resourceVersion": str(self.version),
            },
            "data": {ROUTES_KEY: data},
        }

    def update(self, routes: dict[str, Any]) -> None:
        self.version += 1
        self.secret = self._secret(routes)
        assert self.loop is not None
        assert self.changes is not None
        event = {"type": "MODIFIED", "object": self.secret}
        self.loop.call_soon_threadsafe(self.changes.put_nowait, event)

    def app(self) -> FastAPI:
        api = FastAPI()
        base = f"/api/v1/namespaces/{self.namespace}/secrets"

        @api.get(base + "/{name}")
        async def read(name: str, request: Request) -> JSONResponse:
            self.tokens.append(request.headers.get("authorization"))
            if name != self.name or self.secret is None:
                return JSONResponse({"kind": "Status", "code": 404}, status_code=404)
            return JSONResponse(self.secret)

        @api.get(base)
        async def watch(request: Request) -> StreamingResponse:
            assert request.query_params["watch"] == "true"
            assert request.query_params["fieldSelector"] == f"metadata.name={self.name}"
            self.loop = asyncio.get_running_loop()
            self.changes = asyncio.Queue()

            async def events() -> Any:
                while True:
                    event = await self.changes.get()  # type: ignore[union-attr]
                    yield json.dumps(event) + "\n"

            return StreamingResponse(events(), media_type="application/json")

        return api


@contextlib.contextmanager
def watching(api: SecretServer) -> Iterator[RouteBook]:
    """A SecretRouteSource following `api` from its own loop; yields the book it fills."""
    server = ServerThread(api.app()).start()
    book = RouteBook()
    loop = asyncio.new_event_loop()
    client = httpx.AsyncClient(base_url=server.url, headers={"Authorization": "Bearer sa-token"})
    source = SecretRouteSource(client, "katha-system", "katha-routes", book, retry_seconds=0.1)
    task = loop.create_task(source.run())

    def run() -> None:
        with contextlib.suppress(asyncio.CancelledError):
            loop.run_until_complete(task)
        loop.run_until_complete(client.aclose())
        loop.close()

    runner = threading.Thread(target=run, daemon=True)
    runner.start()
    try:
        yield book
    finally:
        loop.call_soon_threadsafe(task.cancel)
        runner.join(timeout=5)
        server.stop()


def _change_arrives_by_the_watch(
    api: SecretServer, book: RouteBook, tenants: dict[str, Tenant]
) -> None:
    alpha, beta = tenants["alpha"], tenants["beta"]
    wait_for(lambda: api.changes is not None, timeout=5, what="the watch")
    api.update({"routes": [alpha.route(), beta.route()]})
    # The watch, not a poll, brings it: the source polls nothing.
    wait_for(lambda: book.route_for(beta.phone_number_id), timeout=5, what="the change")
    assert api.tokens[0] == "Bearer sa-token"


@pytest.mark.slow
def test_the_secret_source_applies_changes_from_a_watch(tenants: dict[str, Tenant]) -> None:
    alpha, beta = tenants["alpha"], tenants["beta"]
    api = SecretServer("katha-system", "katha-routes", {"routes": [alpha.route()]})
    with watching(api) as book:
        wait_for(lambda: book.route_for(alpha.phone_number_id), timeout=5, what="the first list")
        assert book.route_for(beta.phone_number_id) is None
        _change_arrives_by_the_watch(api, book, tenants)


@pytest.mark.slow
def test_a_missing_secret_is_an_empty_ready_table_until_created(tenants: dict[str, Tenant]) -> None:
    api = SecretServer("katha-system", "katha-routes", None)  # before the first Business
    with watching(api) as book:
        wait_for(lambda: book.loaded, timeout=5, what="the first list")
        assert book.route_for(tenants["alpha"].phone_number_id) is None
        _change_arrives_by_the_watch(api, book, tenants)  # the operator creates it


@pytest.mark.slow
def test_the_router_waits_for_an_unreachable_inbox_and_refuses_webhooks_meanwhile(
    tmp_path: Path, graph: GraphApi, tenants: dict[str, Tenant]
) -> None:
    """Redis not there yet: not ready, 503 to Meta (which retries), no crash; then ready."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is not installed: `apt-get install -y redis-server`")
    port = free_port()
    router = RouterHarness(tmp_path, f"redis://127.0.0.1:{port}/0", graph, list(tenants.values()))
    router.server.start()
    router.url = router.server.url
    redis_server: subprocess.Popen[bytes] | None = None
    try:
        assert httpx.get(f"{router.url}/readyz").status_code == 503
        alpha = tenants["alpha"]
        payload = notification(alpha.phone_number_id, [text("anyone?")])
        assert router.post(payload, alpha.app_secret).status_code == 503
        redis_server = subprocess.Popen(
            [
                shutil.which("redis-server") or "redis-server",
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(tmp_path),
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(lambda: httpx.get(f"{router.url}/readyz").status_code == 200, timeout=15)
        assert router.post(payload, alpha.app_secret).status_code == 200
        wait_for(lambda: graph.texts(), timeout=10, what="the reply once Redis is up")
    finally:
        router.server.stop()
        if redis_server is not None:
            redis_server.terminate()
            redis_server.wait(timeout=10)


def test_a_secret_with_one_key_per_tenant_is_read_whole(tenants: dict[str, Tenant]) -> None:
    # The operator writes route.<namespace>.<name>.json per Business; the router merges them.
    alpha, beta = tenants["alpha"], tenants["beta"]
    data = {
        f"route.tenants.{name}.json": base64.b64encode(json.dumps(t.route()).encode()).decode()
        for name, t in (("alpha", alpha), ("beta", beta))
    }
    book = RouteBook()
    assert book.replace_from_secret(data, "secret/katha-routes")
    assert book.route_for(alpha.phone_number_id) is not None
    assert book.route_for(beta.phone_number_id) is not None
    broken = {**data, "route.tenants.gamma.json": base64.b64encode(b"{}").decode()}
    assert not book.replace_from_secret(broken, "secret/katha-routes")
    assert book.route_for(beta.phone_number_id) is not None  # the good table is kept
