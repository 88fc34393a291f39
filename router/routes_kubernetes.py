"""The routing table from one Secret in the platform namespace, watched through the
Kubernetes API with the pod's service-account token (read access to that one Secret)."""

import asyncio
import json
import os
import ssl
from pathlib import Path
from typing import Any, Self

import httpx

from katha.observability import get_logger
from router.live_routes import LiveRoutes
from router.settings import RouterSettings

log = get_logger("router")

SERVICE_ACCOUNT = Path("/var/run/secrets/kubernetes.io/serviceaccount")


def kubernetes_client(settings: RouterSettings, timeout: httpx.Timeout) -> httpx.AsyncClient:
    """A client for the API server, as this pod's service account (in a cluster), or for
    `settings.kubernetes_api_url`."""
    host = os.environ.get("KUBERNETES_SERVICE_HOST", "kubernetes.default.svc")
    port = os.environ.get("KUBERNETES_SERVICE_PORT", "443")
    base = settings.kubernetes_api_url or f"https://{host}:{port}"
    token_file = SERVICE_ACCOUNT / "token"
    headers = {}
    if token_file.is_file():
        headers["Authorization"] = f"Bearer {token_file.read_text().strip()}"
    ca = SERVICE_ACCOUNT / "ca.crt"
    verify: ssl.SSLContext | bool = (
        ssl.create_default_context(cafile=str(ca)) if ca.is_file() else True
    )
    return httpx.AsyncClient(base_url=base, headers=headers, verify=verify, timeout=timeout)


class SecretRouteSource:
    def __init__(
        self,
        client: httpx.AsyncClient,
        namespace: str,
        name: str,
        live_routes: LiveRoutes,
        retry_seconds: float = 2.0,
    ) -> None:
        self._client = client
        self._path = f"/api/v1/namespaces/{namespace}/secrets"
        self._name = name
        self._live_routes = live_routes
        self._retry = retry_seconds

    @classmethod
    def in_cluster(cls, settings: RouterSettings, live_routes: LiveRoutes) -> Self:
        client = kubernetes_client(settings, timeout=httpx.Timeout(10.0, read=None))
        return cls(client, settings.namespace, settings.routes_secret, live_routes)

    def _apply(self, secret: dict[str, Any]) -> None:
        self._live_routes.replace_from_secret(secret.get("data") or {}, f"secret/{self._name}")

    async def _list(self) -> str:
        response = await self._client.get(f"{self._path}/{self._name}")
        if response.status_code == 404:
            # A fresh install: the operator writes the Secret with the first Business.
            # Until then there is nothing to route, which is a valid, ready state.
            self._live_routes.replace_from_secret({}, f"secret/{self._name} (not created yet)")
            return ""
        response.raise_for_status()
        secret = response.json()
        self._apply(secret)
        return str(secret.get("metadata", {}).get("resourceVersion", ""))

    async def _watch(self, version: str) -> None:
        params = {
            "watch": "true",
            "fieldSelector": f"metadata.name={self._name}",
            "allowWatchBookmarks": "true",
        }
        if version:  # without one, the watch starts from now and reports the Secret's creation
            params["resourceVersion"] = version
        async with self._client.stream("GET", self._path, params=params) as response:
            response.raise_for_status()
            async for line in response.aiter_lines():
                if not line.strip():
                    continue
                event = json.loads(line)
                kind, obj = event.get("type"), event.get("object") or {}
                if kind == "ERROR":  # 410 Gone: our version is too old; list again
                    return
                if kind in ("ADDED", "MODIFIED"):
                    self._apply(obj)
                elif kind == "DELETED":
                    log.error("routes.deleted", source=f"secret/{self._name}")

    async def aclose(self) -> None:
        await self._client.aclose()

    async def run(self) -> None:
        while True:
            try:
                await self._watch(await self._list())
            except (httpx.HTTPError, ValueError) as error:
                log.warning("routes.watch_failed", error=type(error).__name__)
                await asyncio.sleep(self._retry)
